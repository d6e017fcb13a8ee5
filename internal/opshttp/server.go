// Package opshttp is the HTTP server every role runs for operations:
// GET /health/check, GET /metrics (Prometheus text) and the role's own
// admin and query endpoints, all answering JSON with lowerCamelCase fields.
//
// Access (admin.go, AdminConfig): admin writes need the admin token or,
// without one, a request from the node's own machine that no web page can
// make (AdminHeader, a loopback Host, no foreign Origin); a node whose HTTP
// address is not loopback-only does not start without a token unless told
// to; reads that expose registerIds, client IPs or topology can be put
// behind the token; every admin request is written to an audit log line.
package opshttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"golang.org/x/net/netutil"

	"github.com/roster-registry/roster/netio"
)

// MaxBody bounds every request body the admin endpoints read.
const MaxBody = 1 << 20

// Bounds of every role's HTTP server, so that clients that connect and send
// nothing, or headers a byte at a time, hold a bounded number of
// descriptors for a bounded time. There is no write timeout: a CPU profile
// or trace (/debug/pprof) writes for as long as it was asked to run.
const (
	// MaxConns bounds the server's open connections (netio.FDShare of the
	// process's descriptors, at most this); past it, new ones wait in the
	// listen backlog until one closes. One source IP holds at most a
	// quarter of them; past that its new ones are closed at once.
	MaxConns          = 1024
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second // headers and body
	idleTimeout       = 2 * time.Minute  // between requests of a kept-alive connection
	maxHeaderBytes    = 64 << 10
)

// openConns counts the open connections of every role's HTTP server.
var openConns = metrics.NewGauge(`roster_http_connections`, nil)

// refusedPerIP counts connections closed at once for their source IP's cap.
var refusedPerIP = metrics.NewCounter(`roster_http_refused_total{limit="conns_per_ip"}`)

var adminBadRequests = metrics.NewCounter(`roster_http_admin_bad_requests_total`)

// Health reports whether a role is serving, with details for the response.
type Health func() (ok bool, detail any)

// Server is a role's operations HTTP server.
type Server struct {
	mux    *http.ServeMux
	srv    *http.Server
	ln     net.Listener
	addr   string
	logger *slog.Logger
	guard  guard
	role   string // whose metrics /metrics exports (metrics.go)
	// maxConns is MaxConns; tests lower it.
	maxConns int
	// maxPerIP bounds one source IP's connections (a quarter of maxConns
	// when 0), so that one source cannot hold the whole cap and keep
	// health checks and scrapes from other ones waiting.
	maxPerIP int
}

// SetAdmin sets who may use the admin endpoints and protected reads (see
// AdminConfig); by default, loopback clients only and open reads. Call it
// before Start, which refuses to start with a config unsafe for its address.
func (s *Server) SetAdmin(c AdminConfig) { s.guard.cfg = c }

// HandleAdmin registers an endpoint that changes state. It requires
// "Authorization: Bearer <token>" when a token is set; without one, a
// request from this machine that is not a web page's (see AdminConfig.Token
// and AdminHeader). Anything else gets 401 (403 for a possible web page's
// request) and changes nothing. The request's form is parsed before h runs:
// a malformed one gets 400, a body over MaxBody 413, and h is not called.
// Every admin request is written to an audit log line (refusals throttled).
func (s *Server) HandleAdmin(pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		who, refusal, browser := s.guard.admit(r)
		if refusal != "" {
			status := http.StatusUnauthorized
			if browser {
				status = http.StatusForbidden
				adminBrowser.Inc()
			} else {
				adminRefused.Inc()
				w.Header().Set("WWW-Authenticate", `Bearer realm="roster"`)
			}
			WriteError(w, status, "admin endpoint: "+refusal)
			s.guard.audit(r, who, status, time.Since(start), refusal)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		// The body is read through w itself: MaxBytesReader tells the
		// server to close the connection through an interface sw hides.
		if status, msg := readAdminBody(w, r); status != 0 {
			adminBadRequests.Inc()
			WriteError(sw, status, msg)
		} else {
			adminWrites.Inc()
			h(sw, r)
		}
		if sw.status == 0 {
			sw.status = http.StatusOK // the handler wrote nothing: net/http answers 200
		}
		s.guard.audit(r, who, sw.status, time.Since(start), "")
	})
}

// HandleRead registers a read endpoint that exposes what an attacker
// could use (registerIds, client IPs, topology): open, or behind the token
// with AdminConfig.ProtectReads.
func (s *Server) HandleRead(pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, s.protect(s.guard.admitRead, h))
}

// HandlePrivate registers a read only operators may make: with the token,
// or without one from this machine (profiles, credentials).
func (s *Server) HandlePrivate(pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, s.protect(s.guard.admitPrivate, h))
}

// protect answers 401 when admit refuses a request, and calls h otherwise.
func (s *Server) protect(admit func(*http.Request) string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if why := admit(r); why != "" {
			readsRefused.Inc()
			w.Header().Set("WWW-Authenticate", `Bearer realm="roster"`)
			WriteError(w, http.StatusUnauthorized, why)
			return
		}
		h(w, r)
	}
}

// readAdminBody parses the form of an admin request and reads any other
// body to its end, so that a handler that ignores its body cannot act on an
// oversized one. It returns the status and message of a refusal, or 0.
func readAdminBody(w http.ResponseWriter, r *http.Request) (int, string) {
	tooLarge := fmt.Sprintf("request body over %d bytes", MaxBody)
	if r.ContentLength > MaxBody {
		return http.StatusRequestEntityTooLarge, tooLarge
	}
	if r.Body != nil {
		// MaxBytesHandler bounds it already when served by Start; this bound
		// holds for any server, and w learns to close the connection.
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	}
	err := r.ParseForm()
	if err == nil && r.Body != nil {
		_, err = io.Copy(io.Discard, r.Body)
	}
	if err == nil {
		return 0, ""
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return http.StatusRequestEntityTooLarge, tooLarge
	}
	return http.StatusBadRequest, "cannot read the request: " + err.Error()
}

// New returns a server for addr ("127.0.0.1:0" picks a port) with
// /health/check answering from health and /metrics.
func New(addr string, health Health, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{mux: http.NewServeMux(), addr: addr, logger: logger, maxConns: netio.FDShare(16, MaxConns),
		guard: guard{log: logger.With("audit", "admin"), refusals: netio.LogThrottle{Every: 10 * time.Second}}}
	s.mux.HandleFunc("GET /health/check", func(w http.ResponseWriter, r *http.Request) {
		ok, detail := health()
		status := http.StatusOK
		if !ok {
			status = http.StatusServiceUnavailable
		}
		WriteJSON(w, status, map[string]any{"healthy": ok, "detail": detail})
	})
	// Profiles of a live role, for operators chasing a hot spot (CPU, heap)
	// or a latency (the execution trace shows what a goroutine waited on).
	// Served like admin endpoints (they cost CPU and expose internals) but,
	// being reads, without AdminHeader: go tool pprof sends no header.
	s.HandlePrivate("GET /debug/pprof/", pprof.Index)
	s.HandlePrivate("GET /debug/pprof/profile", pprof.Profile)
	s.HandlePrivate("GET /debug/pprof/trace", pprof.Trace)
	s.HandleRead("GET /metrics", s.handleMetrics)
	return s
}

// ServeHTTP serves r with the server's endpoints, as if it arrived on its
// port: for a handler that forwards requests to its own server (meta's
// console API).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Handle registers a handler, with a Go 1.22 pattern such as "GET /path".
func (s *Server) Handle(pattern string, h http.HandlerFunc) { s.mux.HandleFunc(pattern, h) }

// Start listens and serves in the background.
func (s *Server) Start(ctx context.Context) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("cannot listen for HTTP on %s: %w", s.addr, err)
	}
	if err := s.guard.cfg.check(ln.Addr()); err != nil {
		_ = ln.Close()
		return fmt.Errorf("cannot serve HTTP on %s: %w", s.addr, err)
	}
	s.addr = ln.Addr().String()
	perIP := s.maxPerIP
	if perIP <= 0 {
		perIP = max(s.maxConns/4, 1)
	}
	ln = netutil.LimitListener(netio.LimitListenerPerIP(ln, perIP, func(net.Addr) { refusedPerIP.Inc() }), s.maxConns)
	s.ln = ln
	s.claimShared()
	s.srv = &http.Server{
		Handler:           http.MaxBytesHandler(s.mux, MaxBody),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState: func(_ net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				openConns.Inc()
			case http.StateClosed, http.StateHijacked:
				openConns.Dec()
			}
		},
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("HTTP server stopped", "addr", s.addr, "err", err)
		}
	}()
	return nil
}

// Addr is the address the server listens on (after Start).
func (s *Server) Addr() string { return s.addr }

// Stop shuts the server down, waiting for handlers until ctx is done.
func (s *Server) Stop(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	s.releaseShared()
	if err := s.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("cannot stop HTTP server: %w", err)
	}
	return nil
}

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// WriteError answers with {"error": msg}.
func WriteError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, map[string]string{"error": msg})
}

// GetJSON fetches url and decodes its JSON body into v; used by tests and ctl.
func GetJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("cannot build request for %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cannot get %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", url, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("cannot get %s: status %d: %s", url, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("cannot decode %s: %w", url, err)
	}
	return nil
}
