package wire

import (
	"errors"
	"testing"
)

// TestBeatWriting: a write loop writing with nothing waiting in the socket
// is this process's delay (the link stays); with bytes the peer does not
// take, it is the peer's (the link closes).
func TestBeatWriting(t *testing.T) {
	c, _ := tcpPair(t)
	if err := overdue(c); err != nil {
		t.Fatalf("writing, nothing unsent: %v", err)
	}
	fillUnread(t, c)
	if err := overdue(c); !errors.Is(err, ErrHeartbeatTimeout) {
		t.Fatalf("writing to a peer that does not read: %v", err)
	}
}
