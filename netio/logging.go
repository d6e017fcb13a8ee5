package netio

import (
	"context"
	"fmt"
	"log/slog"
)

// gnetLogger routes gnet's own logging to slog. gnet keeps one process-wide
// logger, so with several servers the last one started receives the lines.
type gnetLogger struct {
	l        *slog.Logger
	throttle *LogThrottle
	// stopping reports that Stop was called: the acceptor then fails on
	// its shut listener (shutListener) and gnet reports that as errors,
	// which are the expected end and logged at debug level.
	stopping func() bool
}

func (g gnetLogger) logf(level slog.Level, format string, args []any) {
	if level > slog.LevelDebug && g.stopping != nil && g.stopping() {
		level = slog.LevelDebug
	}
	if !g.l.Enabled(context.Background(), level) {
		return
	}
	if level >= slog.LevelWarn {
		g.throttle.Log(g.l, level, "gnet: "+fmt.Sprintf(format, args...))
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
