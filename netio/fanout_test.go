package netio

import (
	"net"
	"sync/atomic"
	"testing"

	"github.com/roster-registry/roster/proto"
)

func TestWriteSharedReachesEveryConnection(t *testing.T) {
	h := newTestHandler()
	s := startServer(t, ServerConfig{Loops: 2}, h)
	const n = 200
	var got atomic.Int64
	for i := 0; i < n; i++ {
		dialLink(t, s.Addr(), LinkConfig{Handler: func(l *Link, f Frame) {
			if f.Header.Type == proto.TypePush {
				got.Add(1)
			}
		}})
	}
	waitFor(t, "every connection open", func() bool { return s.ConnCount() == n })
	var conns []*Conn
	s.Range(func(c *Conn) bool { conns = append(conns, c); return true })
	frame := proto.AppendFrame(nil, 0, 0, &proto.Push{DataInfoID: "d", Version: 1})
	keep := string(frame)
	for round := 0; round < 3; round++ {
		if w, err := s.WriteShared(frame, conns); err != nil || w != n {
			t.Fatalf("wrote %d of %d: %v", w, n, err)
		}
	}
	waitFor(t, "every push received", func() bool { return got.Load() == 3*n })
	if string(frame) != keep {
		t.Fatal("the shared frame was modified")
	}
	// A closed connection is skipped, the others still get the frame.
	_ = conns[0].Close(nil)
	waitFor(t, "close seen", func() bool { return s.ConnCount() == n-1 })
	if w, _ := s.WriteShared(frame, conns); w != n-1 {
		t.Fatalf("wrote %d, want %d", w, n-1)
	}
	if _, err := s.WriteShared([]byte{1}, conns); err == nil {
		t.Fatal("a short frame was accepted")
	}
}

// BenchmarkWriteShared fans one push body out to many connections: the
// allocations per connection must be ~0 (the body is shared, not copied).
//
//	go test -run '^$' -bench WriteShared -benchtime 200x ./netio
func BenchmarkWriteShared(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(itoa(n)+"conns", func(b *testing.B) {
			h := newTestHandler()
			s := startServer(b, ServerConfig{Loops: 2, MaxOutbound: 64 << 20}, h)
			for i := 0; i < n; i++ {
				c, err := net.Dial("tcp", s.Addr())
				if err != nil {
					b.Skipf("cannot open %d connections: %v", n, err)
				}
				b.Cleanup(func() { c.Close() })
				go drain(c)
			}
			waitFor(b, "every connection open", func() bool { return s.ConnCount() == n })
			var conns []*Conn
			s.Range(func(c *Conn) bool { conns = append(conns, c); return true })
			frame := proto.AppendFrame(nil, 0, 0, &proto.Push{DataInfoID: "d", Version: 1,
				Publishers: []proto.PushPublisher{{RegisterID: "r", Data: []string{"10.0.0.1:12200"}}}})
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.WriteShared(frame, conns); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/conn")
		})
	}
}

func drain(c net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
