package proto

import (
	"strconv"
	"testing"
)

func benchPublisher() *Publisher {
	p := &Publisher{DataInfoID: "com.example.Echo:1.0#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP",
		RegisterID: "5f1c9a3e-1d2b-4c6e-9a0f-3b2c1d0e9f8a", Zone: "zone-a", AppName: "echo",
		ClientIP: "10.0.0.1", Version: 3, RegisterTimestamp: 1_700_000_000_000}
	for i := 0; i < 10; i++ {
		p.Data = append(p.Data, "10.0.0.1:"+strconv.Itoa(12200+i)+"?weight=100&protocol=bolt&serialization=hessian2")
	}
	return p
}

func benchPush(n int) *Push {
	m := &Push{DataInfoID: "com.example.Echo:1.0#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP", Version: 1 << 40}
	for i := 0; i < n; i++ {
		m.Publishers = append(m.Publishers, PushPublisher{RegisterID: "pub-" + strconv.Itoa(i), Zone: "zone-a",
			Version: 1, Data: []string{"10.0." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250) + ":12200?weight=100&protocol=bolt"}})
	}
	m.Count, m.Hash = uint32(n), ListHash(m.Publishers)
	return m
}

func benchCodec(b *testing.B, m Message) {
	body := m.AppendBody(nil)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		buf := make([]byte, 0, 2*len(body))
		for b.Loop() {
			buf = m.AppendBody(buf[:0])
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		out := New(m.Type())
		for b.Loop() {
			if err := out.Unmarshal(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkPublisher10Addrs(b *testing.B) { benchCodec(b, benchPublisher()) }
func BenchmarkPush100Pubs(b *testing.B)      { benchCodec(b, benchPush(100)) }

func BenchmarkCompressPush(b *testing.B) {
	for _, n := range []int{100, 2000} {
		frame := AppendFrame(nil, 0, 0, benchPush(n))
		for _, enc := range []Encoding{EncodingZstd, EncodingS2} {
			b.Run(strconv.Itoa(n)+"pubs/"+[]string{"", "zstd", "s2"}[enc], func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(frame)))
				var out []byte
				for b.Loop() {
					out = AppendCompressed(out[:0], frame, enc)
				}
				b.ReportMetric(float64(len(frame))/float64(len(out)), "ratio")
			})
		}
	}
}

// BenchmarkDecompressParallel decodes a compressed push of 100 publishers
// on every core at once, as a client process's read loops do.
func BenchmarkDecompressParallel(b *testing.B) {
	frame := AppendCompressed(nil, AppendFrame(nil, 0, 0, benchPush(100)), EncodingZstd)
	h, err := ParseHeader(frame, DefaultMaxBody)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(h.Length))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := Decompress(h.Flags, frame[HeaderSize:], DefaultMaxBody); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
