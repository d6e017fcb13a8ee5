package opshttp

import (
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/netio"
)

// AdminHeader is the header every admin write must carry on a node without
// an admin token (any non-empty value; roster ctl sends "1"). A web page
// cannot send a custom header to another origin without a CORS preflight,
// which roster never grants, so a page an operator happens to open cannot
// drive the admin endpoints of a node on their machine.
const AdminHeader = "X-Roster-Admin"

// Flag names of AdminConfig, for messages that tell an operator what to set.
const (
	FlagAdminToken     = "admin-token"
	FlagAdminTokenFile = "admin-token-file"
	FlagAdminInsecure  = "admin-insecure"
	FlagProtectReads   = "protect-reads"
)

// AdminConfig says who may use a node's admin endpoints and protected reads.
type AdminConfig struct {
	// Token is the bearer token ("Authorization: Bearer <token>") admin
	// requests must carry. Without one, admin writes are served only to
	// requests from the loopback interface that name a loopback host, carry
	// AdminHeader and come from no other web origin.
	Token string
	// Insecure lets a node whose HTTP address is not loopback-only start
	// without a Token (its admin endpoints then still answer only loopback
	// clients). Without it such a node refuses to start.
	Insecure bool
	// ProtectReads puts the read endpoints that expose registerIds, client
	// IPs and topology (HandleRead: digests, /metrics, pprof, connections)
	// behind the Token; it requires one.
	ProtectReads bool
}

var (
	adminRefused = metrics.NewCounter(`roster_http_admin_refused_total{reason="unauthorized"}`)
	adminBrowser = metrics.NewCounter(`roster_http_admin_refused_total{reason="browser"}`)
	readsRefused = metrics.NewCounter(`roster_http_admin_refused_total{reason="protected_read"}`)
	adminWrites  = metrics.NewCounter(`roster_http_admin_writes_total`)
)

// ReadTokenFile returns the token in path: its content without surrounding
// white space. An empty file is an error: it would turn the token off.
func ReadTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read --%s: %w", FlagAdminTokenFile, err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("cannot use --%s %s: %w", FlagAdminTokenFile, path, ErrEmptyToken)
	}
	return t, nil
}

// check validates c for a server that will listen on addr (after Listen).
func (c *AdminConfig) check(addr net.Addr) error {
	if c.ProtectReads && c.Token == "" {
		return fmt.Errorf("--%s needs --%s (or --%s): %w", FlagProtectReads, FlagAdminToken, FlagAdminTokenFile, ErrAdminUnprotected)
	}
	if c.Token != "" || c.Insecure || loopbackListener(addr) {
		return nil
	}
	return fmt.Errorf("the HTTP address %s is not loopback-only and no --%s is set: set --%s or --%s, "+
		"bind the HTTP address to 127.0.0.1, or pass --%s to serve the admin endpoints to loopback clients without a token: %w",
		addr, FlagAdminToken, FlagAdminToken, FlagAdminTokenFile, FlagAdminInsecure, ErrAdminUnprotected)
}

// loopbackListener reports whether a listener on addr accepts loopback
// connections only (an unspecified address such as ":9603" listens on
// every interface).
func loopbackListener(addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	return ok && ip.Unmap().IsLoopback()
}

// guard is the access control of the admin endpoints and protected reads.
type guard struct {
	cfg      AdminConfig
	log      *slog.Logger
	refusals netio.LogThrottle // audit lines of refused admin requests: an attacker can repeat them
}

// bearer reports whether r carries the admin token. The comparison takes
// the same time whatever the token's content.
func (g *guard) bearer(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && g.cfg.Token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(g.cfg.Token)) == 1
}

// local reports why a request without a token may not be trusted as an
// operator's on this machine, or "" when it may: it must come from the
// loopback interface and name a loopback host (a page of a name that an
// attacker's DNS points at 127.0.0.1, DNS rebinding, names its own host).
func local(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return "no remote address"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Unmap().IsLoopback() {
		return "not from a loopback address"
	}
	if !loopbackHost(r.Host) {
		return fmt.Sprintf("Host %q is not a loopback name or address", r.Host)
	}
	return ""
}

// notBrowser reports why a tokenless admin write may come from a web page,
// or "" when it cannot: it must carry AdminHeader, and any Origin must be
// the node's own (a page elsewhere sends its own origin); browsers mark a
// cross-site request with Sec-Fetch-Site.
func notBrowser(r *http.Request) string {
	if r.Header.Get(AdminHeader) == "" {
		return "header " + AdminHeader + " missing (a web page cannot send it; roster ctl does)"
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return fmt.Sprintf("Origin %q is not this node (%s)", o, r.Host)
		}
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return "Sec-Fetch-Site " + site
	}
	return ""
}

// loopbackHost reports whether a Host header names this machine's loopback
// interface: localhost (or a name under .localhost) or a loopback address.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.Unmap().IsLoopback()
}

// admit decides an admin write: "" when allowed, else why not. who names
// the caller for the audit line.
func (g *guard) admit(r *http.Request) (who, refusal string, browser bool) {
	if g.cfg.Token != "" {
		if g.bearer(r) {
			return "admin-token", "", false
		}
		return "anonymous", "a valid bearer token is required (--" + FlagAdminToken + " is set on this node)", false
	}
	if why := local(r); why != "" {
		return "anonymous", "without --" + FlagAdminToken + " only requests from this machine are served: " + why, strings.HasPrefix(why, "Host")
	}
	if why := notBrowser(r); why != "" {
		return "loopback", "refused as a possible web page's request: " + why, true
	}
	return "loopback", "", false
}

// admitPrivate decides a private read (profiles, credentials): the token
// when there is one, else a request from this machine (no AdminHeader: a
// read changes nothing, and `go tool pprof` sends no header).
func (g *guard) admitPrivate(r *http.Request) string {
	if g.cfg.Token != "" {
		if g.bearer(r) {
			return ""
		}
		return "a valid bearer token is required (--" + FlagAdminToken + " is set on this node)"
	}
	if why := local(r); why != "" {
		return "without --" + FlagAdminToken + " this endpoint serves this machine only: " + why
	}
	return ""
}

// admitRead decides a protected read: open unless ProtectReads.
func (g *guard) admitRead(r *http.Request) string {
	if !g.cfg.ProtectReads || g.bearer(r) {
		return ""
	}
	return "a valid bearer token is required: --" + FlagProtectReads + " is set on this node"
}

// statusWriter records the status an admin handler answered, for the audit line.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets a streaming handler flush through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// audit writes the audit line of an admin write: who (the admin token, or
// "loopback", and the remote address), what (method, path, form field
// names and values, each cut at 200 bytes) and the result.
func (g *guard) audit(r *http.Request, who string, status int, took time.Duration, refusal string) {
	args := []any{"who", who, "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path,
		"form", formSummary(r), "status", status, "took", took.Round(time.Microsecond)}
	if refusal != "" {
		args = append(args, "refused", refusal)
		g.refusals.Warn(g.log, "admin request refused", args...)
		return
	}
	g.log.Info("admin request", args...)
}

// maxAuditValue bounds each form value written to an audit line.
const maxAuditValue = 200

// formSummary renders the request's form for the audit line, sorted by
// name. The form is parsed only when it was (admin bodies are parsed before
// the handler runs; a refused request's body is never read).
func formSummary(r *http.Request) string {
	if r.Form == nil {
		return r.URL.RawQuery
	}
	names := make([]string, 0, len(r.Form))
	for k := range r.Form {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		for _, v := range r.Form[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			if len(v) > maxAuditValue {
				v = v[:maxAuditValue] + "..."
			}
			b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(v))
		}
	}
	return b.String()
}

// DoAdmin sends an admin request the way roster ctl does: form as the body
// of a POST (or the query of another method), AdminHeader, and the token
// as a bearer token when not empty. For tools and tests.
func DoAdmin(ctx context.Context, method, u string, form url.Values, token string) (*http.Response, error) {
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	} else if len(form) > 0 {
		u += "?" + form.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("cannot build request for %s: %w", u, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	SetAdminHeaders(req, token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot send %s %s: %w", method, u, err)
	}
	return resp, nil
}

// SetAdminHeaders marks req as an operator's (AdminHeader) and adds the
// token as a bearer token when not empty.
func SetAdminHeaders(req *http.Request, token string) {
	req.Header.Set(AdminHeader, "1")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
}
