package wire

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

// FuzzLinkRead feeds arbitrary bytes to a Link's reader: it must deliver
// frames or close, never panic.
func FuzzLinkRead(f *testing.F) {
	for _, seed := range [][]byte{
		frameOf(1, msg(5)),
		append(frameOf(0, msg(0)), frameOf(2, &proto.Heartbeat{UnixMs: 3})...),
		proto.AppendCompressed(nil, frameOf(4, msg(300)), proto.EncodingZstd),
		proto.AppendHeader(nil, proto.Header{Length: 1 << 31, Type: proto.TypePush}),
	} {
		f.Add(seed)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, stream []byte) {
		server, client := net.Pipe()
		defer server.Close()
		l := newLink(client, client, "pipe", LinkConfig{MaxFrame: 1 << 16, Logger: quiet, Handler: func(*Link, Frame) {}}.withDefaults())
		defer l.Close()
		go func() {
			_, _ = server.Write(stream)
			_ = server.Close()
		}()
		go func() { _, _ = io.Copy(io.Discard, server) }()
		select {
		case <-l.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("the link did not end with its input")
		}
	})
}
