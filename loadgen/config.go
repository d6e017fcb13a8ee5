package loadgen

import (
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Targets.
const (
	TargetRoster = "roster"
	TargetEtcd   = "etcd"
	// TargetRosterWire drives roster's sessions speaking the client
	// protocol directly: one connection carries many publishers and
	// subscribers, and loadgen keeps a few bytes per record instead of an
	// SDK object, so one machine can simulate tens of millions of records.
	TargetRosterWire = "roster-wire"
)

// Config describes one load scenario. Zero fields take the defaults below.
type Config struct {
	Target    string   // TargetRoster or TargetEtcd
	Endpoints []string // roster session addresses or etcd client URLs
	Scenario  string   // a name for the report

	Conns          int // client connections; publishers and subscribers are spread over them round-robin
	Services       int
	PubsPerService int
	SubsPerService int
	DataBytes      int // each published string is padded to this size

	Churn    float64       // republishes per second during the run
	Storm    int           // services republished at once in the middle of the run (one publisher each)
	Duration time.Duration // length of the run after registration

	// StormPubs (roster-wire) is how many publishers of each storm service
	// are republished, as an application's redeploy does; 0 or 1: one.
	StormPubs int
	// SubsSharing (roster-wire) is how many subscribers of one service share
	// a connection (a client process subscribing for several of its
	// components): they take the same pushes. 0 or 1: one per connection.
	SubsSharing int
	// LatencySample (roster-wire) times the pushes of one in this many
	// groups of subscribers (every group's convergence is checked); 0 or 1: all.
	LatencySample int
	// OnPhase (roster-wire), when set, is called as phases end: "pubs"
	// (publishers registered), "settled" (every subscriber holds its list),
	// "storm" (the storm is about to be sent; the storm waits for the
	// call) and "end"; a caller samples the servers there.
	OnPhase func(phase string)

	// Inflight is the number of registrations in flight per connection.
	Inflight int
	// RegisterTimeout bounds registration; past it the result is partial.
	RegisterTimeout time.Duration
	// ConvergeTimeout bounds each wait for every subscriber to hold what
	// was published: after registration and after the run.
	ConvergeTimeout time.Duration
	// LeaseTTL is the etcd lease of each connection's publishers.
	LeaseTTL time.Duration

	// TLS, when set, connects to roster's sessions with TLS (client.Config.TLS).
	TLS *tls.Config

	// ServerPID is the server process whose memory and CPU are reported;
	// when 0 it is the process listening on the first endpoint's port.
	ServerPID int
	// ServerMetrics, when set, is the server's /metrics URL (roster: the
	// process-wide port, e.g. meta's in integrated); the live heap read
	// there at the end goes beside the RSS (Result.ServerLiveHeapBytes).
	ServerMetrics string

	// Progress receives a progress line (rewritten in place on a
	// terminal); nil for none.
	Progress io.Writer
	Logger   *slog.Logger
}

// Defaults.
const (
	DefaultConns           = 100
	DefaultServices        = 1000
	DefaultPubsPerService  = 10
	DefaultSubsPerService  = 10
	DefaultDataBytes       = 100
	DefaultDuration        = 30 * time.Second
	DefaultInflight        = 16
	DefaultRegisterTimeout = 10 * time.Minute
	DefaultConvergeTimeout = time.Minute
	DefaultLeaseTTL        = time.Minute
)

func (c Config) withDefaults() Config {
	if c.Target == "" {
		c.Target = TargetRoster
	}
	if c.Scenario == "" {
		c.Scenario = "custom"
	}
	if c.Conns <= 0 {
		c.Conns = DefaultConns
	}
	if c.Services <= 0 {
		c.Services = DefaultServices
	}
	if c.DataBytes < 0 {
		c.DataBytes = 0
	}
	if c.Duration < 0 {
		c.Duration = 0
	}
	if c.SubsSharing <= 0 {
		c.SubsSharing = 1
	}
	if c.Inflight <= 0 {
		c.Inflight = DefaultInflight
	}
	if c.RegisterTimeout <= 0 {
		c.RegisterTimeout = DefaultRegisterTimeout
	}
	if c.ConvergeTimeout <= 0 {
		c.ConvergeTimeout = DefaultConvergeTimeout
	}
	if c.LeaseTTL < time.Second {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c Config) validate() error {
	switch {
	case len(c.Endpoints) == 0:
		return fmt.Errorf("%w: no endpoints", ErrInvalidConfig)
	case c.PubsPerService < 0 || c.SubsPerService < 0:
		return fmt.Errorf("%w: negative publishers or subscribers per service", ErrInvalidConfig)
	case c.Churn < 0 || c.Storm < 0:
		return fmt.Errorf("%w: negative churn or storm", ErrInvalidConfig)
	case c.Target != TargetRosterWire && (c.StormPubs > 1 || c.SubsSharing > 1):
		return fmt.Errorf("%w: storm publishers and shared subscriber connections are for target %s", ErrInvalidConfig, TargetRosterWire)
	case c.Storm > c.Services:
		return fmt.Errorf("%w: storm of %d services, only %d exist", ErrInvalidConfig, c.Storm, c.Services)
	case c.Services*c.PubsPerService >= 1<<30:
		return fmt.Errorf("%w: too many publishers", ErrInvalidConfig)
	}
	return nil
}

// Pubs is the number of publishers the scenario registers.
func (c Config) Pubs() int { return c.Services * c.PubsPerService }

// Subs is the number of subscribers the scenario registers.
func (c Config) Subs() int { return c.Services * c.SubsPerService }
