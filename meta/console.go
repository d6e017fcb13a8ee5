package meta

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/roster-registry/roster/console"
	"github.com/roster-registry/roster/internal/opshttp"
)

// forwardedHeader marks a console request a follower forwarded to the
// leader, so that a leader that just lost its lease answers instead of
// forwarding it again.
const forwardedHeader = "X-Roster-Forwarded"

// consoleRoutes serves the web console (GET /console/) and its API
// (/console/api/PATH): the leader serves PATH itself, a follower forwards
// the request to the leader, so the console works through any meta node.
func (s *Server) consoleRoutes() {
	s.http.Handle("GET /console/", console.Handler("/console/").ServeHTTP)
	s.http.Handle("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/", http.StatusFound)
	})
	s.http.Handle("GET /console/api/", s.consoleAPI)
	s.http.Handle("POST /console/api/", s.consoleAPI)
}

func (s *Server) consoleAPI(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	leading := s.isLeaderLocked(time.Now())
	leaderHTTP := s.leaderHTTPLocked(leading)
	s.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/console/api")
	if leading {
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = path, ""
		r2.RequestURI = ""
		s.http.ServeHTTP(w, r2)
		return
	}
	if leaderHTTP == "" || r.Header.Get(forwardedHeader) != "" {
		opshttp.WriteError(w, http.StatusServiceUnavailable, "no meta leader known to this node yet; try again")
		return
	}
	target := &url.URL{Scheme: "http", Host: leaderHTTP}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Header.Set(forwardedHeader, "1")
			// The browser's Origin names this node; the leader checks it
			// against its own host: this node checked it against its own.
			if o := pr.In.Header.Get("Origin"); o != "" && sameOrigin(o, pr.In.Host) {
				pr.Out.Header.Set("Origin", target.String())
			}
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			opshttp.WriteError(w, http.StatusBadGateway, "cannot reach the meta leader at "+leaderHTTP+": "+err.Error())
		},
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = "/console/api"+path, ""
	proxy.ServeHTTP(w, r2)
}

// sameOrigin reports whether origin (scheme://host[:port]) names host.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host == host
}
