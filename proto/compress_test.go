package proto

import (
	"bytes"
	"runtime"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// TestCodecsNeverWait: a compression or decompression never waits for
// another goroutine's. Many codecs are held at once, as goroutines
// preempted in the middle of a decode hold them, and a round trip still
// completes. With one shared decoder of one block decoder a core, a decode
// waited for one of them: on a CPU-bound client process every read loop
// queued behind preempted holders and missed its heartbeat's answer.
func TestCodecsNeverWait(t *testing.T) {
	held := 4*runtime.GOMAXPROCS(0) + 4
	var encs []*zstd.Encoder
	var decs []*zstd.Decoder
	for range held {
		encs = append(encs, zstdEncoders.Get().(*zstd.Encoder))
		decs = append(decs, zstdDecoders.Get().(*zstd.Decoder))
	}
	m := &Push{DataInfoID: "d", Version: 1}
	for i := range 100 {
		m.Publishers = append(m.Publishers, PushPublisher{RegisterID: "r" + itoa(uint64(i)), Version: 1,
			Data: []string{"10.0.0.1:12200?weight=100"}})
	}
	plain := AppendFrame(nil, 0, 0, m)
	done := make(chan error, 1)
	go func() {
		framed := AppendCompressed(nil, plain, EncodingZstd)
		h, err := ParseHeader(framed, DefaultMaxBody)
		if err == nil {
			var body []byte
			body, err = Decompress(h.Flags, framed[HeaderSize:], DefaultMaxBody)
			if err == nil && !bytes.Equal(body, plain[HeaderSize:]) {
				err = ErrMalformed
			}
		}
		done <- err
	}()
	// Not a timing bound: a wait for a held codec never ends.
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("round trip with %d codecs held: %v", held, err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("a round trip waited for one of %d codecs held elsewhere", held)
	}
	for i := range encs {
		zstdEncoders.Put(encs[i])
		zstdDecoders.Put(decs[i])
	}
}
