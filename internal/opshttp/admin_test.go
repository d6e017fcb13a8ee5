package opshttp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a log sink the server's goroutines write to while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// adminServer starts a server with one admin endpoint on loopback and
// counts the calls of its handler.
func adminServer(t *testing.T, cfg AdminConfig, log *slog.Logger) (*Server, *int) {
	t.Helper()
	s := New("127.0.0.1:0", func() (bool, any) { return true, nil }, log)
	s.SetAdmin(cfg)
	changed := new(int)
	s.HandleAdmin("POST /change", func(w http.ResponseWriter, r *http.Request) { *changed++ })
	s.HandleAdmin("GET /stopPushDataSwitch/open", func(w http.ResponseWriter, r *http.Request) { *changed++ })
	s.HandleRead("GET /digest", func(w http.ResponseWriter, r *http.Request) { WriteJSON(w, http.StatusOK, "registerIds") })
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s, changed
}

// TestBrowserCannotDriveAdmin sends what a web page open on an operator's
// machine can make a browser send to a node without an admin token: a
// cross-origin form POST or image GET (no custom header), the same with an
// Origin, and a same-origin request from a page whose name an attacker's DNS
// points at 127.0.0.1 (DNS rebinding: the Host is the attacker's name). None
// changes anything; roster ctl's request does.
func TestBrowserCannotDriveAdmin(t *testing.T) {
	s, changed := adminServer(t, AdminConfig{}, nil)
	base := "http://" + s.Addr()
	f := func(method, path string, headers map[string]string, want int) {
		t.Helper()
		before := *changed
		req, _ := http.NewRequest(method, base+path, strings.NewReader("ips=10.0.0.1"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range headers {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want || (*changed > before) != (want == http.StatusOK) {
			t.Fatalf("%s %s %v: status %d, changed %v; want %d", method, path, headers, resp.StatusCode, *changed > before, want)
		}
	}
	// A cross-origin form post and an <img src> GET: no custom header possible.
	f(http.MethodPost, "/change", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden)
	f(http.MethodPost, "/change", nil, http.StatusForbidden)
	f(http.MethodGet, "/stopPushDataSwitch/open", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden)
	// The header with a foreign Origin (were a preflight ever granted), or marked cross-site.
	f(http.MethodPost, "/change", map[string]string{AdminHeader: "1", "Origin": "http://evil.example"}, http.StatusForbidden)
	f(http.MethodPost, "/change", map[string]string{AdminHeader: "1", "Sec-Fetch-Site": "same-site"}, http.StatusForbidden)
	// DNS rebinding: same-origin for the browser, but the Host is the attacker's name.
	f(http.MethodPost, "/change", map[string]string{AdminHeader: "1", "Host": "evil.example:" + port(s.Addr())}, http.StatusForbidden)
	f(http.MethodPost, "/change", map[string]string{AdminHeader: "1", "Host": "evil.example:" + port(s.Addr()),
		"Origin": "http://evil.example:" + port(s.Addr())}, http.StatusForbidden)
	// roster ctl, curl with the header, and a same-origin Origin pass.
	f(http.MethodPost, "/change", map[string]string{AdminHeader: "1"}, http.StatusOK)
	f(http.MethodPost, "/change", map[string]string{AdminHeader: "1", "Host": "localhost:" + port(s.Addr())}, http.StatusOK)
	f(http.MethodPost, "/change", map[string]string{AdminHeader: "1", "Origin": "http://" + s.Addr()}, http.StatusOK)
	f(http.MethodGet, "/stopPushDataSwitch/open", map[string]string{AdminHeader: "1"}, http.StatusOK)
}

func port(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

// TestAdminBeyondLoopbackNeedsAToken: a node whose HTTP address is not
// loopback-only does not start without a token, unless told to; reads
// cannot be protected without a token.
func TestAdminBeyondLoopbackNeedsAToken(t *testing.T) {
	f := func(addr string, cfg AdminConfig, wantErr bool) {
		t.Helper()
		s := New(addr, func() (bool, any) { return true, nil }, nil)
		s.SetAdmin(cfg)
		err := s.Start(context.Background())
		if err == nil {
			_ = s.Stop(context.Background())
		}
		if (err != nil) != wantErr || err != nil && !errors.Is(err, ErrAdminUnprotected) {
			t.Fatalf("%s %+v: err %v, want error %v", addr, cfg, err, wantErr)
		}
	}
	f(":0", AdminConfig{}, true)
	f("0.0.0.0:0", AdminConfig{}, true)
	f(":0", AdminConfig{Insecure: true}, false)
	f(":0", AdminConfig{Token: "s3cret"}, false)
	f("127.0.0.1:0", AdminConfig{}, false)
	f("localhost:0", AdminConfig{}, false)
	f("127.0.0.1:0", AdminConfig{ProtectReads: true}, true)
	f("127.0.0.1:0", AdminConfig{ProtectReads: true, Token: "s3cret"}, false)
}

// TestProtectReads: with --protect-reads, digests and metrics need the token.
func TestProtectReads(t *testing.T) {
	f := func(cfg AdminConfig, path, token string, want int) {
		t.Helper()
		s, _ := adminServer(t, cfg, nil)
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.Addr()+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%+v GET %s with %q: status %d, want %d", cfg, path, token, resp.StatusCode, want)
		}
	}
	open := AdminConfig{Token: "s3cret"}
	protected := AdminConfig{Token: "s3cret", ProtectReads: true}
	f(open, "/digest", "", http.StatusOK)
	f(open, "/metrics", "", http.StatusOK)
	f(protected, "/digest", "", http.StatusUnauthorized)
	f(protected, "/metrics", "", http.StatusUnauthorized)
	f(protected, "/digest", "wrong", http.StatusUnauthorized)
	f(protected, "/digest", "s3cret", http.StatusOK)
	f(protected, "/metrics", "s3cret", http.StatusOK)
	f(protected, "/health/check", "", http.StatusOK)
	f(open, "/debug/pprof/", "", http.StatusUnauthorized)
	f(open, "/debug/pprof/", "s3cret", http.StatusOK)
}

// TestAdminAudit: every admin request leaves a line naming who, what and
// the result.
func TestAdminAudit(t *testing.T) {
	var buf lockedBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	s, _ := adminServer(t, AdminConfig{Token: "s3cret"}, log)
	for _, token := range []string{"s3cret", "wrong"} {
		resp, err := DoAdmin(context.Background(), http.MethodPost, "http://"+s.Addr()+"/change", map[string][]string{"ips": {"10.0.0.9"}}, token)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	out := buf.String()
	for _, want := range []string{
		`msg="admin request" audit=admin who=admin-token remote=127.0.0.1:`,
		`method=POST path=/change form="ips=10.0.0.9" status=200`,
		`msg="admin request refused" audit=admin who=anonymous`,
		`status=401`,
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("audit log lacks %q:\n%s", want, out)
		}
	}
}
