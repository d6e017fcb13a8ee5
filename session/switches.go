package session

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/proto"
)

// Switches (meta/switches.go) override this session's flags live. Each
// switch meta sends replaces its flag's value; one meta no longer sends
// goes back to the flag's. They apply as follows: the debounce and the
// compression threshold to the next change and the next frame built; the
// version scan after the interval running; the session-wide registration
// rate at once; the per-connection rate to connections handshaken after the
// change; the counts to the next connection or registration.

// switchValue reads a switch's value off a Config, and switchSet writes it.
type switchField struct {
	get func(c *Config) int64
	set func(c *Config, v int64)
}

func msField(f func(c *Config) *time.Duration) switchField {
	return switchField{
		get: func(c *Config) int64 { return f(c).Milliseconds() },
		set: func(c *Config, v int64) { *f(c) = time.Duration(v) * time.Millisecond },
	}
}

func intField(f func(c *Config) *int) switchField {
	return switchField{
		get: func(c *Config) int64 { return int64(*f(c)) },
		set: func(c *Config, v int64) { *f(c) = int(v) },
	}
}

func rateField(f func(c *Config) *float64) switchField {
	return switchField{
		get: func(c *Config) int64 { return int64(*f(c)) },
		set: func(c *Config, v int64) { *f(c) = float64(v) },
	}
}

// switchFields are the Config fields of proto.SwitchSpecs, by name.
var switchFields = map[string]switchField{
	"push-debounce":     msField(func(c *Config) *time.Duration { return &c.Debounce }),
	"push-max-debounce": msField(func(c *Config) *time.Duration { return &c.MaxDebounce }),
	"push-compress-above": {
		get: func(c *Config) int64 {
			if c.CompressAbove == math.MaxInt {
				return -1
			}
			return int64(c.CompressAbove)
		},
		set: func(c *Config, v int64) {
			c.CompressAbove = int(v)
			if v < 0 {
				c.CompressAbove = math.MaxInt
			}
		},
	},
	"version-scan":                   msField(func(c *Config) *time.Duration { return &c.ScanInterval }),
	"client-register-rate":           rateField(func(c *Config) *float64 { return &c.ConnRegisterRate }),
	"client-register-burst":          intField(func(c *Config) *int { return &c.ConnRegisterBurst }),
	"session-register-rate":          rateField(func(c *Config) *float64 { return &c.NodeRegisterRate }),
	"session-register-burst":         intField(func(c *Config) *int { return &c.NodeRegisterBurst }),
	"client-max-publishers":          intField(func(c *Config) *int { return &c.MaxPublishersPerConn }),
	"client-max-subscribed-services": intField(func(c *Config) *int { return &c.MaxServicesPerConn }),
	"client-max-data-bytes":          intField(func(c *Config) *int { return &c.MaxDataBytes }),
	"session-max-clients":            intField(func(c *Config) *int { return &c.MaxConns }),
	"session-max-clients-per-ip":     intField(func(c *Config) *int { return &c.MaxConnsPerIP }),
}

// switchesApplied counts switch sets that changed a session's settings.
var switchesApplied = metrics.NewCounter(`roster_session_switches_applied_total`)

// applySwitches puts meta's switches in force over the flags; on the meta
// agent's goroutine.
func (s *Server) applySwitches(sw []proto.Switch) {
	if old := s.switches.Load(); old != nil && slices.Equal(*old, sw) || old == nil && len(sw) == 0 {
		return
	}
	s.switches.Store(&sw)
	next := s.cfg // the flags
	for _, w := range sw {
		if f, ok := switchFields[w.Name]; ok {
			f.set(&next, w.Value) // range-checked by the decoder
		}
	}
	prev := s.limits.cfg()
	s.limits.set(&next)
	if prev.Debounce != next.Debounce || prev.MaxDebounce != next.MaxDebounce {
		s.push.SetDebounce(next.Debounce, next.MaxDebounce)
	}
	if prev.CompressAbove != next.CompressAbove {
		s.push.SetCompressAbove(next.CompressAbove)
	}
	switchesApplied.Inc()
	s.log.Info("switches applied", "switches", sw)
}

// scanInterval is the version-scan interval in force.
func (s *Server) scanInterval() time.Duration { return s.limits.cfg().ScanInterval }

// Switch reports the value of a switch in force here (the flag's unless
// meta overrides it), and whether the name is a switch.
func (s *Server) Switch(name string) (int64, bool) {
	f, ok := switchFields[name]
	if !ok {
		return 0, false
	}
	return f.get(s.limits.cfg()), true
}

// switchGauges adds roster_session_switch{name=...}, the value of each
// switch in force, to set.
func (s *Server) switchGauges(set *metrics.Set) {
	for _, spec := range proto.SwitchSpecs {
		name := spec.Name
		set.NewGauge(fmt.Sprintf(`roster_session_switch{name=%q}`, name), func() float64 {
			v, _ := s.Switch(name)
			return float64(v)
		})
	}
}
