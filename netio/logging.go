package netio

import (
	"context"
	"fmt"
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

func (t *throttle) log(l *slog.Logger, level slog.Level, msg string, args ...any) {
	t.logEvery(l, 0, level, msg, args...)
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
// counts the rest (added to the next line as "suppressed"): the throttle
// netio uses for its own per-peer warnings, for every role's warnings that
// can repeat per peer, slot or request. The zero value is ready to use; it
// is safe for concurrent use.
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

// gnetLogger routes gnet's own logging to slog. gnet keeps one process-wide
// logger, so with several servers the last one started receives the lines.
type gnetLogger struct {
	l        *slog.Logger
	throttle *throttle
}

func (g gnetLogger) logf(level slog.Level, format string, args []any) {
	if !g.l.Enabled(context.Background(), level) {
		return
	}
	if level >= slog.LevelWarn {
		g.throttle.log(g.l, level, "gnet: "+fmt.Sprintf(format, args...))
		return
	}
	g.l.Log(context.Background(), level, "gnet: "+fmt.Sprintf(format, args...))
}

// Debugf implements gnet's logging.Logger.
func (g gnetLogger) Debugf(format string, args ...any) { g.logf(slog.LevelDebug, format, args) }

// Infof implements gnet's logging.Logger; gnet's info lines are start-up chatter.
func (g gnetLogger) Infof(format string, args ...any) { g.logf(slog.LevelDebug, format, args) }

// Warnf implements gnet's logging.Logger.
func (g gnetLogger) Warnf(format string, args ...any) { g.logf(slog.LevelWarn, format, args) }

// Errorf implements gnet's logging.Logger.
func (g gnetLogger) Errorf(format string, args ...any) { g.logf(slog.LevelError, format, args) }

// Fatalf implements gnet's logging.Logger without exiting: a library never
// ends the process.
func (g gnetLogger) Fatalf(format string, args ...any) { g.logf(slog.LevelError, format, args) }

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
