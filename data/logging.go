package data

import (
	"log/slog"
	"sync"
	"time"
)

// logEvery is the least time between two logs of one throttle.
const logEvery = 10 * time.Second

// throttle lets one log through per logEvery and counts the ones it held
// back, so a failure repeated per peer or per slot does not flood the log.
type throttle struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func (t *throttle) warn(l *slog.Logger, msg string, args ...any) {
	t.mu.Lock()
	now := time.Now()
	if now.Sub(t.last) < logEvery {
		t.suppressed++
		t.mu.Unlock()
		return
	}
	t.last = now
	n := t.suppressed
	t.suppressed = 0
	t.mu.Unlock()
	if n > 0 {
		args = append(args, "suppressed", n)
	}
	l.Warn(msg, args...)
}
