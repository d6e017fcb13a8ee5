package netio

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

func fuzzSeeds(f *testing.F) {
	f.Add(frameOf(1, pub([]byte("hello"))))
	f.Add(append(frameOf(0, pub(nil)), frameOf(2, &proto.Heartbeat{UnixMs: 3})...))
	f.Add(proto.AppendCompressed(nil, frameOf(4, pub(make([]byte, 300))), proto.EncodingZstd))
	f.Add(proto.AppendCompressed(nil, frameOf(5, pub(make([]byte, 300))), proto.EncodingS2))
	f.Add(proto.AppendHeader(nil, proto.Header{Length: 1 << 31, Type: proto.TypePush}))
	f.Add([]byte("garbage that is not a frame"))
}

// FuzzServerStream sends arbitrary bytes to a Server: it must answer or
// close the connection, never panic, and keep serving.
func FuzzServerStream(f *testing.F) {
	fuzzSeeds(f)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := startServer(f, ServerConfig{Name: "fuzz", MaxFrame: 1 << 16, Logger: quiet}, newTestHandler())
	f.Fuzz(func(t *testing.T, stream []byte) {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(stream); err != nil {
			return // closed by the server already
		}
		_ = c.(*net.TCPConn).CloseWrite()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.Copy(io.Discard, c)
		// The server still answers.
		probe, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer probe.Close()
		if _, err := probe.Write(frameOf(9, pub([]byte("probe")))); err != nil {
			t.Fatal(err)
		}
		_ = probe.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, proto.HeaderSize+5)
		if _, err := io.ReadFull(probe, buf); err != nil {
			t.Fatalf("server stopped answering: %s", err)
		}
	})
}
