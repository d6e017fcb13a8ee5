package session

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"golang.org/x/time/rate"

	"github.com/roster-registry/roster/internal/acl"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// Who may use the session, and for what (package acl):
//
//   - Without credentials in the cluster, a client needs nothing, or the
//     shared Config.ClientToken when one is set.
//   - A client that presents a credential's token is held to it: bound to
//     its app, it may publish and subscribe only to the dataIds its
//     permissions match (and publish its own app's instances).
//   - With enforcement on (roster ctl acl enforce on), every client must
//     present a credential's token; the shared token is not enough.
//
// Every check reads the credentials meta sent last, so a change (a new
// permission, a deleted or rotated credential, enforcement) applies to the
// next operation of every connected client, within a heartbeat to meta. A
// refused handshake is answered, then the connection closed; the failures
// of one client IP are rate-limited (failureTable), and tokens are compared
// in constant time.

// Limits of failed authentications per client IP: a burst, then one per
// interval. Past it, a handshake from the IP is refused before its token is
// looked at.
const (
	authFailureBurst    = 10
	authFailureInterval = time.Second
	maxAuthFailureIPs   = 4096 // client IPs tracked; past it a random one is forgotten
)

var (
	authThrottled     = metrics.NewCounter(`roster_session_auth_throttled_total`)
	permissionRefused = metrics.NewCounter(`roster_session_registrations_refused_total{reason="permission"}`)
	credentialsKnown  = metrics.NewGauge(`roster_session_credentials`, nil)
	credentialsOn     = metrics.NewGauge(`roster_session_credentials_enforced`, nil)
	authFailureIPs    = metrics.NewGauge(`roster_session_auth_failure_ips`, nil)
)

// authState is a session's view of the cluster's credentials and its table
// of failed authentications.
type authState struct {
	shared   string // Config.ClientToken
	set      atomic.Pointer[acl.Set]
	failures failureTable
	log      *slog.Logger
	refused  netio.LogThrottle // failed authentications
	denied   netio.LogThrottle // operations a credential does not allow
}

func newAuthState(shared string, log *slog.Logger) *authState {
	a := &authState{shared: shared, log: log, failures: failureTable{ips: make(map[string]*rate.Limiter)},
		refused: netio.LogThrottle{Every: 10 * time.Second}, denied: netio.LogThrottle{Every: 10 * time.Second}}
	a.set.Store(acl.NewSet(proto.ACL{}))
	return a
}

// setACL makes a the credentials checked from now on.
func (a *authState) setACL(acls proto.ACL) {
	set := acl.NewSet(acls)
	old := a.set.Swap(set)
	credentialsKnown.Set(float64(set.Len()))
	enforced := 0.0
	if set.Enforce {
		enforced = 1
	}
	credentialsOn.Set(enforced)
	if old.Len() != set.Len() || old.Enforce != set.Enforce {
		a.log.Info("client credentials applied", "credentials", set.Len(), "enforced", set.Enforce)
	}
}

// handshake authenticates a client's handshake from ip. On success it
// returns the credential the client presented (nil for none); otherwise the
// answer to send before closing the connection.
func (a *authState) handshake(ip string, m *proto.Handshake) (*proto.Credential, *proto.Result) {
	if !a.failures.allowed(ip) {
		authThrottled.Inc()
		a.refused.Warn(a.log, "client authentication throttled", "clientIp", ip)
		return nil, &proto.Result{Code: proto.CodeRateLimited, Message: fmt.Sprintf(
			"too many failed authentications from %s: at most %d, then one per %v; try again later", ip, authFailureBurst, authFailureInterval)}
	}
	set := a.set.Load()
	fail := func(why string) (*proto.Credential, *proto.Result) {
		a.failures.failed(ip)
		authRefused.Inc()
		a.refused.Warn(a.log, "client authentication failed", "clientIp", ip, "clientId", m.ClientID, "app", m.AppName, "why", why)
		return nil, &proto.Result{Code: proto.CodeUnauthorized, Message: why}
	}
	shared := a.shared != "" && subtle.ConstantTimeCompare([]byte(m.Token), []byte(a.shared)) == 1
	switch {
	case m.Token != "" && !shared:
		c, ok := set.Authenticate(m.Token)
		if !ok {
			return fail("wrong token: neither the session's client token nor a credential's")
		}
		if m.AppName != "" && m.AppName != c.App {
			return fail(fmt.Sprintf("credential %s is bound to app %s, not %s", c.Name, c.App, m.AppName))
		}
		return c, nil
	case set.Enforce:
		return fail("a credential's token is required: credentials are enforced in this cluster")
	case a.shared != "" && !shared:
		return fail("wrong or missing client token")
	}
	return nil, nil
}

// Operations a credential's permissions cover.
const (
	opPublish   = "publish"
	opSubscribe = "subscribe"
)

// allow checks that cc's client may publish to or subscribe to dataInfoID
// (op), as bound to app when publishing; ok false comes with the answer.
func (a *authState) allow(cc *clientConn, op, dataInfoID, app string) (proto.Result, bool) {
	c, res := a.credential(cc)
	if res != nil {
		return *res, false
	}
	if c == nil {
		return proto.Result{}, true // no credential, none required
	}
	var patterns []string
	switch op {
	case opPublish:
		if app != "" && app != c.App {
			return a.deny(cc, c, fmt.Sprintf("credential %s is bound to app %s and may not publish as app %s", c.Name, c.App, app))
		}
		if dataInfoID == proto.AppDataInfoID(c.App) {
			return proto.Result{}, true // its own application's instances
		}
		patterns = c.Publish
	case opSubscribe:
		patterns = c.Subscribe
	}
	dataID := acl.DataID(dataInfoID)
	if acl.Allowed(patterns, dataID) {
		return proto.Result{}, true
	}
	return a.deny(cc, c, fmt.Sprintf("credential %s may not %s %s (its %s permissions: %s)", c.Name, op, dataID, op, listOrNone(patterns)))
}

// allowApp checks that cc's client may register an application revision:
// one of the app its credential is bound to, whose interfaces it may
// publish (the revision makes the app's instances publishers of them).
func (a *authState) allowApp(cc *clientConn, m *proto.AppRevision) (proto.Result, bool) {
	c, res := a.credential(cc)
	if res != nil {
		return *res, false
	}
	if c == nil {
		return proto.Result{}, true
	}
	if m.App != c.App {
		return a.deny(cc, c, fmt.Sprintf("credential %s is bound to app %s and may not register app %s", c.Name, c.App, m.App))
	}
	for _, svc := range m.Services {
		if id := acl.DataID(svc.Interface); !acl.Allowed(c.Publish, id) {
			return a.deny(cc, c, fmt.Sprintf("credential %s may not publish %s, an interface of app %s (its publish permissions: %s)",
				c.Name, id, m.App, listOrNone(c.Publish)))
		}
	}
	return proto.Result{}, true
}

// credential returns the credential cc's client is held to now, nil for
// none, or the answer refusing its operations: its credential was deleted
// or its token rotated, or credentials are enforced and it has none.
func (a *authState) credential(cc *clientConn) (*proto.Credential, *proto.Result) {
	set := a.set.Load()
	if cc.cred == "" {
		if set.Enforce {
			permissionRefused.Inc()
			return nil, &proto.Result{Code: proto.CodeUnauthorized, Message: "credentials are enforced in this cluster and this connection presented none: reconnect with a credential's token"}
		}
		return nil, nil
	}
	c, ok := set.Get(cc.cred)
	switch {
	case !ok:
		permissionRefused.Inc()
		return nil, &proto.Result{Code: proto.CodeUnauthorized, Message: "credential " + cc.cred + " was deleted"}
	case c.TokenHash != cc.credHash:
		permissionRefused.Inc()
		return nil, &proto.Result{Code: proto.CodeUnauthorized, Message: "the token of credential " + cc.cred + " was rotated: reconnect with the new one"}
	}
	return c, nil
}

func (a *authState) deny(cc *clientConn, c *proto.Credential, why string) (proto.Result, bool) {
	permissionRefused.Inc()
	a.denied.Warn(a.log, "client operation refused by its credential", "clientIp", cc.ip, "credential", c.Name, "why", why)
	return proto.Result{Code: proto.CodeForbidden, Message: why}, false
}

func listOrNone(patterns []string) string {
	if len(patterns) == 0 {
		return "none"
	}
	return strings.Join(patterns, ", ")
}

// failureTable rate-limits failed authentications per client IP. It is
// bounded: past maxAuthFailureIPs, IPs are forgotten at random (an attacker
// with that many addresses gains a few more guesses at a 130-bit token).
type failureTable struct {
	mu  sync.Mutex
	ips map[string]*rate.Limiter
}

// allowed reports whether ip may try to authenticate now.
func (f *failureTable) allowed(ip string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	lim, ok := f.ips[ip]
	return !ok || lim.Tokens() >= 1
}

// failed counts a failed authentication from ip.
func (f *failureTable) failed(ip string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	lim, ok := f.ips[ip]
	if !ok {
		if len(f.ips) >= maxAuthFailureIPs {
			f.evictLocked()
		}
		lim = rate.NewLimiter(rate.Every(authFailureInterval), authFailureBurst)
		f.ips[strings.Clone(ip)] = lim
	}
	lim.Allow()
	authFailureIPs.Set(float64(len(f.ips)))
}

// evictLocked forgets the IPs whose failures are forgiven (their limiter
// full again) and, while more than 7/8 of the bound are left, others at
// random: the next inserts need no sweep. f.mu must be held.
func (f *failureTable) evictLocked() {
	for ip, lim := range f.ips {
		if lim.Tokens() >= authFailureBurst {
			delete(f.ips, ip)
		}
	}
	for ip := range f.ips { // map order is random
		if len(f.ips) <= maxAuthFailureIPs*7/8 {
			return
		}
		delete(f.ips, ip)
	}
}

// Credentials reports the client credentials this session applies: how
// many, and whether they are enforced.
func (s *Server) Credentials() (n int, enforced bool) {
	set := s.auth.set.Load()
	return set.Len(), set.Enforce
}
