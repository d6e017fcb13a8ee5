package proto

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// zstd codecs are pooled, one to each goroutine compressing or
// decompressing at a time, and a goroutine that finds none free builds one:
// none ever waits for another's. One shared decoder (one block decoder a
// core) and one shared encoder did make them wait: with 2,000 SDK clients
// in one CPU-bound process on 2 cores (bench-storm's 1M registration),
// 1,796 of the 2,000 read loops queued for the two block decoders while
// their holders sat preempted in a run queue 4,000 goroutines deep; no read
// loop read its heartbeat's answer within 5 s, every client dropped its
// connection and registered everything again, and the load never
// recovered. A codec holds a few hundred KiB once used; sync.Pool lets a
// collection take back the ones a burst left idle.
var (
	zstdEncoders = sync.Pool{New: func() any {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(1), zstd.WithZeroFrames(true))
		if err != nil {
			panic(err) // fixed, valid options
		}
		return e
	}}
	zstdDecoders = sync.Pool{New: func() any {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(DefaultMaxBody*4), zstd.WithDecodeAllCapLimit(true))
		if err != nil {
			panic(err) // fixed, valid options
		}
		return d
	}}
)

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
		e := zstdEncoders.Get().(*zstd.Encoder)
		dst = e.EncodeAll(body, dst)
		zstdEncoders.Put(e)
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
		d := zstdDecoders.Get().(*zstd.Decoder)
		out, err := d.DecodeAll(body, make([]byte, 0, h.FrameContentSize))
		zstdDecoders.Put(d)
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
