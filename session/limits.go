package session

import (
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/push"
)

// Admission control: what one client connection, and all of them together,
// may ask of a session. A refusal names the limit, its value and the flag
// that sets it, so the operator of the client knows what to change or ask
// for. Every refusal is counted (metrics.go) and logged at most once per
// second per limit.

// Flag names of the limits, as cmd/roster registers them; refusals quote them.
const (
	FlagConnRegisterRate     = "client-register-rate"
	FlagConnRegisterBurst    = "client-register-burst"
	FlagNodeRegisterRate     = "session-register-rate"
	FlagNodeRegisterBurst    = "session-register-burst"
	FlagMaxPublishersPerConn = "client-max-publishers"
	FlagMaxServicesPerConn   = "client-max-subscribed-services"
	FlagMaxDataBytes         = "client-max-data-bytes"
	FlagMaxConns             = "session-max-clients"
	FlagMaxConnsPerIP        = "session-max-clients-per-ip"
	FlagHandshakeTimeout     = "client-handshake-timeout"
)

// Defaults of the limits. The bursts are sized for the replay of a client
// that reconnects: it sends every registration it holds at once, and a
// replay refused half-way leaves its services missing until it is retried.
const (
	// DefaultConnRegisterRate is registrations and unregistrations per
	// second one connection may sustain.
	DefaultConnRegisterRate = 1000
	// DefaultConnRegisterBurst lets a connection replay
	// DefaultMaxPublishersPerConn publishers and as many subscribers at once.
	DefaultConnRegisterBurst = 2 * DefaultMaxPublishersPerConn
	// DefaultNodeRegisterRate is registrations and unregistrations per
	// second of all the session's clients (SOFARegistry's session
	// accessLimitRate).
	DefaultNodeRegisterRate = 100_000
	// DefaultNodeRegisterBurst absorbs two seconds of the rate, e.g. the
	// replays of clients moving from a session that went away.
	DefaultNodeRegisterBurst = 2 * DefaultNodeRegisterRate
	// DefaultMaxPublishersPerConn bounds the publishers one connection holds.
	DefaultMaxPublishersPerConn = 20_000
	// DefaultHandshakeTimeout closes connections that do not handshake.
	DefaultHandshakeTimeout = 10 * time.Second
	// maxDefaultConns caps DefaultMaxConns.
	maxDefaultConns = 50_000
)

// DefaultMaxConns is the default of Config.MaxConns: half the process's
// open-files limit (the rest is for data links, HTTP, the store and the
// connections refused meanwhile), at most 50,000. Running out of file
// descriptors would stop the client listener for good (gnet gives up
// accepting), so the session refuses clients well before that.
func DefaultMaxConns() int {
	n := netio.OpenFilesLimit()
	if n <= 0 || n/2 > maxDefaultConns {
		return maxDefaultConns
	}
	return max(n/2, 1)
}

// setLimitDefaults fills in the zero limits; negative ones mean no limit.
func (c *Config) setLimitDefaults() {
	if c.ConnRegisterRate == 0 {
		c.ConnRegisterRate = DefaultConnRegisterRate
	}
	if c.ConnRegisterBurst == 0 {
		c.ConnRegisterBurst = DefaultConnRegisterBurst
	}
	if c.NodeRegisterRate == 0 {
		c.NodeRegisterRate = DefaultNodeRegisterRate
	}
	if c.NodeRegisterBurst == 0 {
		c.NodeRegisterBurst = DefaultNodeRegisterBurst
	}
	if c.MaxPublishersPerConn == 0 {
		c.MaxPublishersPerConn = DefaultMaxPublishersPerConn
	}
	if c.MaxServicesPerConn == 0 {
		c.MaxServicesPerConn = DefaultMaxPublishersPerConn
	}
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns()
	}
	if c.MaxConnsPerIP == 0 {
		c.MaxConnsPerIP = -1
		if c.MaxConns > 0 {
			c.MaxConnsPerIP = max(c.MaxConns/4, 16)
		}
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.Capacity <= 0 {
		c.Capacity = DefaultCapacity
	}
	c.Capacity = min(c.Capacity, MaxCapacity)
	if c.TemporaryRate == 0 {
		c.TemporaryRate = DefaultTemporaryRate
	}
	if c.TemporaryBurst == 0 {
		c.TemporaryBurst = DefaultTemporaryBurst
	}
}

// newLimiter returns a token bucket, or nil for no limit.
func newLimiter(perSec float64, burst int) *rate.Limiter {
	if perSec < 0 {
		return nil
	}
	if burst < 0 {
		burst = math.MaxInt
	}
	return rate.NewLimiter(rate.Limit(perSec), max(burst, 1))
}

// admission holds the session-wide limits and their log throttles.
type admission struct {
	// cur is the limits in force: the session's Config with the switches
	// meta sent applied (switches.go); replaced whole, never modified.
	cur  atomic.Pointer[Config]
	log  *slog.Logger
	rpc  *netio.Server
	node atomic.Pointer[rate.Limiter] // nil: no session-wide rate limit

	perIP netio.IPCounter // connections from each client IP (MaxConnsPerIP)

	// One throttle per limit, so a flood against one does not hide another.
	connRateLog, nodeRateLog, pubsLog, dataLog, connsLog, acceptLog, ipLog, tempLog netio.LogThrottle
}

func newAdmission(cfg *Config, log *slog.Logger, rpc *netio.Server) *admission {
	a := &admission{log: log, rpc: rpc}
	a.cur.Store(cfg)
	a.node.Store(newLimiter(cfg.NodeRegisterRate, cfg.NodeRegisterBurst))
	return a
}

// cfg is the limits in force now.
func (a *admission) cfg() *Config { return a.cur.Load() }

// set puts limits c in force: the session-wide rate at once, the
// per-connection rate for connections handshaken from now on, the counts
// for the next connection or registration.
func (a *admission) set(c *Config) {
	old := a.cur.Swap(c)
	if old.NodeRegisterRate != c.NodeRegisterRate || old.NodeRegisterBurst != c.NodeRegisterBurst {
		a.node.Store(newLimiter(c.NodeRegisterRate, c.NodeRegisterBurst))
	}
}

// hardMaxConns is the count of open connections past which a new one is
// closed on accept rather than refused at its handshake: refused
// connections hold a descriptor until they handshake or time out, and a
// flood of them must not exhaust the descriptors either.
func (a *admission) hardMaxConns() int {
	return a.cfg().MaxConns + max(a.cfg().MaxConns/8, 16)
}

// accept is called for a new connection. Over MaxConns it marks the
// connection so that its handshake is refused with a clear error; far over
// it closes the connection at once. It reports whether the connection stays.
func (a *admission) accept(c *netio.Conn, cc *clientConn) bool {
	if !a.acceptIP(c, cc) {
		return false
	}
	if a.cfg().MaxConns < 0 {
		return true
	}
	n := a.rpc.ConnCount()
	if n <= a.cfg().MaxConns {
		return true
	}
	if n > a.hardMaxConns() {
		connsClosedOnAccept.Inc()
		a.acceptLog.Log(a.log, slog.LevelWarn, "closing client connection on accept: far over the connection limit",
			"remote", c.RemoteAddr(), "connections", n, "limit", a.cfg().MaxConns, "flag", "--"+FlagMaxConns)
		_ = c.Close(ErrTooManyConns)
		return false
	}
	cc.overLimit = n
	return true
}

// acceptIP counts a connection from its IP. Over MaxConnsPerIP it marks
// it so that its handshake is refused; far over it closes it at once (as
// accept does for MaxConns). It reports whether the connection stays.
func (a *admission) acceptIP(c *netio.Conn, cc *clientConn) bool {
	limit := a.cfg().MaxConnsPerIP
	if limit < 0 {
		return true
	}
	// Counted up to a hard cap above the limit; connections over the
	// limit are refused at their handshake, those over the hard cap now.
	n, ok := a.perIP.Acquire(c.RemoteAddrPort().Addr(), limit+max(limit/8, 16))
	if !ok {
		connsClosedOnAccept.Inc()
		a.ipLog.Log(a.log, slog.LevelWarn, "closing client connection on accept: far over the per-IP connection limit",
			"remote", c.RemoteAddr(), "connections", n+1, "limit", limit, "flag", "--"+FlagMaxConnsPerIP)
		_ = c.Close(ErrTooManyConns)
		return false
	}
	cc.ipCounted = true
	if n > limit {
		cc.overIP = n
	}
	return true
}

// release forgets a closed connection's share of its IP's count.
func (a *admission) release(cc *clientConn) {
	if !cc.ipCounted {
		return
	}
	a.perIP.Release(cc.c.RemoteAddrPort().Addr())
}

// handshake refuses the handshake of a connection accepted over MaxConns
// or MaxConnsPerIP; code is CodeOK when the handshake may proceed.
func (a *admission) handshake(cc *clientConn) (proto.Code, string) {
	if cc.overIP != 0 {
		limitRefused[limitConnsPerIP].Inc()
		a.ipLog.Log(a.log, slog.LevelWarn, "refused a client: too many connections from its IP",
			"remote", cc.c.RemoteAddr(), "connections", cc.overIP, "limit", a.cfg().MaxConnsPerIP, "flag", "--"+FlagMaxConnsPerIP)
		return proto.CodeUnavailable, fmt.Sprintf("session has %d client connections from %s, limit %d (--%s); try another session",
			cc.overIP, cc.ip, a.cfg().MaxConnsPerIP, FlagMaxConnsPerIP)
	}
	if cc.overLimit == 0 {
		return proto.CodeOK, ""
	}
	limitRefused[limitConns].Inc()
	a.connsLog.Log(a.log, slog.LevelWarn, "refused a client: too many connections",
		"remote", cc.c.RemoteAddr(), "connections", cc.overLimit, "limit", a.cfg().MaxConns, "flag", "--"+FlagMaxConns)
	return proto.CodeUnavailable, fmt.Sprintf("session has %d client connections, limit %d (--%s); try another session",
		cc.overLimit, a.cfg().MaxConns, FlagMaxConns)
}

// connLimiter is the rate limit of a newly handshaken connection; nil for none.
func (a *admission) connLimiter() *rate.Limiter {
	return newLimiter(a.cfg().ConnRegisterRate, a.cfg().ConnRegisterBurst)
}

// tempLimiter is the temporary publication rate limit of a newly
// handshaken connection (temporary.go); nil for none.
func (a *admission) tempLimiter() *rate.Limiter {
	return newLimiter(a.cfg().TemporaryRate, a.cfg().TemporaryBurst)
}

// register takes a token from the connection's and the session's buckets
// for one registration or unregistration; code is CodeOK when it may go on.
// It runs before the request is decoded, so a flood costs little.
func (a *admission) register(cc *clientConn) (proto.Code, string) {
	if cc.limiter != nil && !cc.limiter.Allow() {
		limitRefused[limitConnRate].Inc()
		a.connRateLog.Log(a.log, slog.LevelWarn, "client over its registration rate limit",
			"remote", cc.c.RemoteAddr(), "clientId", cc.clientID, "app", cc.appName,
			"rate", a.cfg().ConnRegisterRate, "burst", a.cfg().ConnRegisterBurst)
		return proto.CodeRateLimited, fmt.Sprintf("registration rate limit of one connection exceeded: %g/s, burst %d (--%s, --%s); retry later",
			a.cfg().ConnRegisterRate, a.cfg().ConnRegisterBurst, FlagConnRegisterRate, FlagConnRegisterBurst)
	}
	if node := a.node.Load(); node != nil && !node.Allow() {
		limitRefused[limitNodeRate].Inc()
		a.nodeRateLog.Log(a.log, slog.LevelWarn, "session over its registration rate limit",
			"remote", cc.c.RemoteAddr(), "rate", a.cfg().NodeRegisterRate, "burst", a.cfg().NodeRegisterBurst)
		return proto.CodeRateLimited, fmt.Sprintf("registration rate limit of the session exceeded: %g/s, burst %d (--%s, --%s); retry later",
			a.cfg().NodeRegisterRate, a.cfg().NodeRegisterBurst, FlagNodeRegisterRate, FlagNodeRegisterBurst)
	}
	return proto.CodeOK, ""
}

// publisher checks a publisher against the size and count limits of its
// connection; code is CodeOK when it may be registered.
func (a *admission) publisher(cc *clientConn, reg *registry, p *proto.Publisher) (proto.Code, string) {
	if code, msg := a.dataBytes(cc, p); code != proto.CodeOK {
		return code, msg
	}
	if limit := a.cfg().MaxPublishersPerConn; limit >= 0 {
		if held := cc.pubCount(); held >= limit && !reg.holds(cc, regKey{p.DataInfoID, p.RegisterID}) {
			limitRefused[limitPublishers].Inc()
			a.pubsLog.Log(a.log, slog.LevelWarn, "refused a publisher over the per-connection limit",
				"remote", cc.c.RemoteAddr(), "clientId", cc.clientID, "app", cc.appName, "limit", limit)
			return proto.CodeTooLarge, fmt.Sprintf("connection holds %d publishers, limit %d (--%s)", held, limit, FlagMaxPublishersPerConn)
		}
	}
	return proto.CodeOK, ""
}

// subscriber checks a subscription against the number of services one
// connection may subscribe to: each is an interest at a data node, a fetch
// and pushes. Code is CodeOK when it may be registered.
func (a *admission) subscriber(cc *clientConn, services *push.Engine, m *proto.Subscriber) (proto.Code, string) {
	limit := a.cfg().MaxServicesPerConn
	if limit < 0 {
		return proto.CodeOK, ""
	}
	if n, holds := services.ClientServices(cc.sub, m.DataInfoID); !holds && n >= limit {
		limitRefused[limitServices].Inc()
		a.pubsLog.Log(a.log, slog.LevelWarn, "refused a subscriber over the per-connection limit of services",
			"remote", cc.c.RemoteAddr(), "clientId", cc.clientID, "app", cc.appName, "limit", limit)
		return proto.CodeTooLarge, fmt.Sprintf("connection subscribes to %d services, limit %d (--%s)", n, limit, FlagMaxServicesPerConn)
	}
	return proto.CodeOK, ""
}

// isRegistration reports whether a request type counts against the
// registration rate limits.
func isRegistration(t proto.Type) bool {
	switch t {
	case proto.TypePublisher, proto.TypeUnregisterPublisher, proto.TypeSubscriber, proto.TypeUnregisterSubscriber,
		// Each app revision is a write to meta's store.
		proto.TypeAppRevision:
		return true
	}
	return false
}

// dataBytes refuses a publisher over Config.MaxDataBytes; code is CodeOK
// when it is within.
func (a *admission) dataBytes(cc *clientConn, p *proto.Publisher) (proto.Code, string) {
	n := 0
	for _, d := range p.Data {
		n += len(d)
	}
	if n <= a.cfg().MaxDataBytes {
		return proto.CodeOK, ""
	}
	limitRefused[limitDataBytes].Inc()
	a.dataLog.Log(a.log, slog.LevelWarn, "refused a publisher over the data size limit",
		"remote", cc.c.RemoteAddr(), "clientId", cc.clientID, "dataInfoId", p.DataInfoID, "bytes", n, "limit", a.cfg().MaxDataBytes)
	return proto.CodeTooLarge, fmt.Sprintf("publisher data is %d bytes, limit %d (--%s)", n, a.cfg().MaxDataBytes, FlagMaxDataBytes)
}
