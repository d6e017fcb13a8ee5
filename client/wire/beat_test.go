package wire

import (
	"errors"
	"net"
	"testing"
	"time"
)

// TestBeat: a link is closed when the peer sent nothing for over the
// timeout after a heartbeat that went out, and not when the heartbeat is
// still queued because this process did not run its write loop.
func TestBeat(t *testing.T) {
	const timeout = 5 * time.Second
	a, c := net.Pipe()
	t.Cleanup(func() { _ = a.Close(); _ = c.Close() })
	s := time.Second
	for _, tc := range []struct {
		name    string
		read    time.Duration // when bytes last arrived (0: never)
		taken   uint64        // write loop's takes by the check (1 when the probe was queued)
		writing bool
		now     time.Duration
		closed  bool
	}{
		{name: "within the timeout", now: 3 * s, taken: 1},
		{name: "answered", read: 2 * s, now: 9 * s, taken: 2},
		{name: "sent, unanswered", now: 9 * s, taken: 2, closed: true},
		{name: "never sent: the write loop did not run", now: 9 * s, taken: 1},
		{name: "writing, and no socket to say whether the peer holds it up", now: 9 * s, taken: 1, writing: true, closed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &Link{raw: a}
			var b beat
			l.taken.Store(1)
			if err := b.check(l, time.Second, timeout); err != nil || b.probe != time.Second {
				t.Fatalf("first check: %v, probe %v", err, b.probe)
			}
			l.lastRead.Store(int64(tc.read))
			l.taken.Store(tc.taken)
			l.writing.Store(tc.writing)
			err := b.check(l, tc.now, timeout)
			if closed := errors.Is(err, ErrHeartbeatTimeout); closed != tc.closed {
				t.Fatalf("check at %v: %v, want closed %v", tc.now, err, tc.closed)
			}
			if !tc.closed && tc.now-time.Second > timeout && b.probe != tc.now {
				t.Fatalf("the probe stayed at %v: the next check would close", b.probe)
			}
		})
	}
}

// overdue runs a heartbeat check past the timeout on a link over raw whose
// write loop took nothing since the heartbeat was queued and is writing.
func overdue(raw net.Conn) error {
	l := &Link{raw: raw}
	var b beat
	_ = b.check(l, time.Second, 5*time.Second)
	l.writing.Store(true)
	return b.check(l, 9*time.Second, 5*time.Second)
}
