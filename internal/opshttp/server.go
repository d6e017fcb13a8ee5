// Package opshttp is the HTTP server every role runs for operations:
// GET /health/check, GET /metrics (Prometheus text) and the role's own
// admin and query endpoints, all answering JSON with lowerCamelCase fields.
package opshttp

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// MaxBody bounds every request body the admin endpoints read.
const MaxBody = 1 << 20

var (
	adminRefused     = metrics.NewCounter(`roster_http_admin_refused_total`)
	adminBadRequests = metrics.NewCounter(`roster_http_admin_bad_requests_total`)
)

// Health reports whether a role is serving, with details for the response.
type Health func() (ok bool, detail any)

// Server is a role's operations HTTP server.
type Server struct {
	mux        *http.ServeMux
	srv        *http.Server
	ln         net.Listener
	addr       string
	logger     *slog.Logger
	adminToken string
	role       string // whose metrics /metrics exports (metrics.go)
}

// SetAdminToken sets the bearer token that HandleAdmin endpoints require.
// With none, they answer only clients on the loopback interface. Call it
// before Start.
func (s *Server) SetAdminToken(token string) { s.adminToken = token }

// HandleAdmin registers an endpoint that changes state. It requires
// "Authorization: Bearer <token>" when a token is set, and a loopback client
// otherwise; anything else gets 401 and changes nothing. The request's form
// is parsed before h runs: a malformed one gets 400, a body over MaxBody 413,
// and h is not called.
func (s *Server) HandleAdmin(pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			adminRefused.Inc()
			w.Header().Set("WWW-Authenticate", `Bearer realm="roster"`)
			WriteError(w, http.StatusUnauthorized, "admin endpoint: a valid bearer token is required (or, with no --admin-token set, a request from 127.0.0.1)")
			return
		}
		if status, msg := readAdminBody(w, r); status != 0 {
			adminBadRequests.Inc()
			WriteError(w, status, msg)
			return
		}
		h(w, r)
	})
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

func (s *Server) authorized(r *http.Request) bool {
	if s.adminToken != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		return ok && subtle.ConstantTimeCompare([]byte(got), []byte(s.adminToken)) == 1
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// New returns a server for addr ("127.0.0.1:0" picks a port) with
// /health/check answering from health and /metrics.
func New(addr string, health Health, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{mux: http.NewServeMux(), addr: addr, logger: logger}
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
	s.HandleAdmin("GET /debug/pprof/", pprof.Index)
	s.HandleAdmin("GET /debug/pprof/profile", pprof.Profile)
	s.HandleAdmin("GET /debug/pprof/trace", pprof.Trace)
	s.mux.HandleFunc("GET /metrics", s.handleMetrics)
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
	s.ln = ln
	s.addr = ln.Addr().String()
	s.claimShared()
	s.srv = &http.Server{Handler: http.MaxBytesHandler(s.mux, MaxBody), ReadHeaderTimeout: 10 * time.Second}
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
