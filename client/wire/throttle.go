package wire

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// throttle lets one log line through per interval and counts the rest, so a
// flood of bad peers cannot turn logging into the bottleneck.
type throttle struct {
	next    atomic.Int64 // unix ns before which lines are suppressed
	dropped atomic.Int64
}

const logInterval = time.Second

// allow reports whether a line may be logged now, at least every apart
// (logInterval when 0), and how many were suppressed since the last one.
func (t *throttle) allow(every time.Duration) (bool, int64) {
	if every <= 0 {
		every = logInterval
	}
	now := time.Now().UnixNano()
	next := t.next.Load()
	if now < next || !t.next.CompareAndSwap(next, now+int64(every)) {
		t.dropped.Add(1)
		return false, 0
	}
	return true, t.dropped.Swap(0)
}

func (t *throttle) logEvery(l *slog.Logger, every time.Duration, level slog.Level, msg string, args ...any) {
	if !l.Enabled(context.Background(), level) {
		return
	}
	ok, dropped := t.allow(every)
	if !ok {
		return
	}
	if dropped > 0 {
		args = append(args, "suppressed", dropped)
	}
	l.Log(context.Background(), level, msg, args...)
}

// LogThrottle lets one log line through per Every (a second when 0) and
// counts the rest (added to the next line as "suppressed"): the throttle of
// the transport's own per-peer warnings, and of the SDK's and every server
// role's warnings that can repeat per peer, slot or request. The zero value
// is ready to use; it is safe for concurrent use.
type LogThrottle struct {
	Every time.Duration
	t     throttle
}

// Log logs msg at level through l unless a line went through less than
// Every ago.
func (lt *LogThrottle) Log(l *slog.Logger, level slog.Level, msg string, args ...any) {
	lt.t.logEvery(l, lt.Every, level, msg, args...)
}

// Warn is Log at warning level.
func (lt *LogThrottle) Warn(l *slog.Logger, msg string, args ...any) {
	lt.Log(l, slog.LevelWarn, msg, args...)
}

// LogThrottles throttles each message on its own, as LogThrottle does one:
// a burst of one warning hides no other. Messages are constants, so the
// set of throttles is bounded by the code.
type LogThrottles struct {
	Every time.Duration
	m     sync.Map // message → *throttle
}

// Warn logs msg at warning level unless a line with the same msg went
// through less than Every ago.
func (lt *LogThrottles) Warn(l *slog.Logger, msg string, args ...any) {
	t, ok := lt.m.Load(msg)
	if !ok {
		t, _ = lt.m.LoadOrStore(msg, new(throttle))
	}
	t.(*throttle).logEvery(l, lt.Every, slog.LevelWarn, msg, args...)
}
