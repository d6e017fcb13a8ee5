package proto

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// One encoder and one decoder serve every goroutine: their EncodeAll and
// DecodeAll are safe for concurrent use, and building them is expensive.
var (
	zstdOnce sync.Once
	zstdEnc  *zstd.Encoder
	zstdDec  *zstd.Decoder
)

func zstdCodecs() (*zstd.Encoder, *zstd.Decoder) {
	zstdOnce.Do(func() {
		zstdEnc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(1), zstd.WithZeroFrames(true))
		zstdDec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxMemory(DefaultMaxBody*4), zstd.WithDecodeAllCapLimit(true))
	})
	return zstdEnc, zstdDec
}

// Choose picks the encoding to use towards a peer that accepts the given set:
// zstd when it can (the better ratio for push bodies), else s2, else none.
func Choose(accepted Encoding) Encoding {
	switch {
	case accepted&EncodingZstd != 0:
		return EncodingZstd
	case accepted&EncodingS2 != 0:
		return EncodingS2
	}
	return 0
}

// AppendCompressed appends frame (an uncompressed frame as built by
// AppendFrame) to dst with its body compressed by enc and the header's
// length and flags set accordingly. With enc 0 it appends frame unchanged.
func AppendCompressed(dst, frame []byte, enc Encoding) []byte {
	if len(frame) < HeaderSize {
		return append(dst, frame...)
	}
	var flag Flags
	switch enc {
	case EncodingZstd:
		flag = FlagZstd
	case EncodingS2:
		flag = FlagS2
	default:
		return append(dst, frame...)
	}
	start := len(dst)
	dst = append(dst, frame[:HeaderSize]...)
	body := frame[HeaderSize:]
	if flag == FlagZstd {
		e, _ := zstdCodecs()
		dst = e.EncodeAll(body, dst)
	} else {
		n := s2.MaxEncodedLen(len(body))
		dst = slices.Grow(dst, n)
		enc := s2.Encode(dst[len(dst):len(dst)+n], body)
		dst = dst[:len(dst)+len(enc)]
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-HeaderSize))
	dst[start+7] |= byte(flag)
	return dst
}

// Decompress returns the plain body of a frame whose flags say it is
// compressed, refusing to produce more than maxSize bytes. An uncompressed
// body is returned as it is.
func Decompress(flags Flags, body []byte, maxSize int) ([]byte, error) {
	switch {
	case flags&FlagZstd != 0:
		var h zstd.Header
		if err := h.Decode(body); err != nil {
			return nil, fmt.Errorf("cannot read zstd header: %w: %w", err, ErrMalformed)
		}
		if !h.HasFCS || h.FrameContentSize > uint64(maxSize) {
			return nil, fmt.Errorf("%w: zstd body of %d bytes, limit %d", ErrFrameTooLarge, h.FrameContentSize, maxSize)
		}
		_, d := zstdCodecs()
		out, err := d.DecodeAll(body, make([]byte, 0, h.FrameContentSize))
		if err != nil {
			return nil, fmt.Errorf("cannot decompress zstd body: %w: %w", err, ErrMalformed)
		}
		return out, nil
	case flags&FlagS2 != 0:
		n, err := s2.DecodedLen(body)
		if err != nil {
			return nil, fmt.Errorf("cannot read s2 length: %w: %w", err, ErrMalformed)
		}
		if n > maxSize {
			return nil, fmt.Errorf("%w: s2 body of %d bytes, limit %d", ErrFrameTooLarge, n, maxSize)
		}
		out, err := s2.Decode(make([]byte, n), body)
		if err != nil {
			return nil, fmt.Errorf("cannot decompress s2 body: %w: %w", err, ErrMalformed)
		}
		return out, nil
	}
	return body, nil
}
