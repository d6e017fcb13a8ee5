package opshttp

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestAdminEndpointsNeedTheToken(t *testing.T) {
	f := func(token, sent string, want int) {
		t.Helper()
		s := New("127.0.0.1:0", func() (bool, any) { return true, nil }, nil)
		s.SetAdmin(AdminConfig{Token: token})
		changed := false
		s.HandleAdmin("POST /change", func(w http.ResponseWriter, r *http.Request) { changed = true })
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer s.Stop(context.Background())
		req, _ := http.NewRequest(http.MethodPost, "http://"+s.Addr()+"/change", nil)
		SetAdminHeaders(req, sent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want || changed != (want == http.StatusOK) {
			t.Fatalf("token %q sent %q: status %d changed %v", token, sent, resp.StatusCode, changed)
		}
	}
	f("secret", "secret", http.StatusOK)
	f("secret", "wrong", http.StatusUnauthorized)
	f("secret", "", http.StatusUnauthorized)
	f("", "", http.StatusOK) // no token: loopback clients only, and this is one
}

func TestAdminEndpointsRefuseBadBodies(t *testing.T) {
	s := New("127.0.0.1:0", func() (bool, any) { return true, nil }, nil)
	called := 0
	s.HandleAdmin("POST /change", func(w http.ResponseWriter, r *http.Request) {
		called++
		WriteJSON(w, http.StatusOK, r.Form)
	})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	f := func(contentType string, body io.Reader, chunked bool, want int) {
		t.Helper()
		before := called
		req, _ := http.NewRequest(http.MethodPost, "http://"+s.Addr()+"/change", body)
		req.Header.Set("Content-Type", contentType)
		SetAdminHeaders(req, "")
		if chunked {
			req.ContentLength = -1 // sent chunked: the size is known only by reading
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want || (called > before) != (want == http.StatusOK) {
			t.Fatalf("%s body (chunked %v): status %d, handler called %v; want %d", contentType, chunked, resp.StatusCode, called > before, want)
		}
	}
	const form = "application/x-www-form-urlencoded"
	big := func() io.Reader { return strings.NewReader("a=" + strings.Repeat("x", MaxBody)) }
	f(form, strings.NewReader("a=1"), false, http.StatusOK)
	f(form, strings.NewReader("a=%zz"), false, http.StatusBadRequest)
	f(form, big(), false, http.StatusRequestEntityTooLarge)
	f(form, big(), true, http.StatusRequestEntityTooLarge)
	f("application/octet-stream", big(), false, http.StatusRequestEntityTooLarge)
	f("application/octet-stream", big(), true, http.StatusRequestEntityTooLarge)
	f("application/octet-stream", strings.NewReader("small"), true, http.StatusOK)
}

// TestConnectionCap: clients that connect and send nothing hold at most the
// server's connection cap; others wait in the backlog (not refused, no
// descriptor held) and are served once one of those closes.
func TestConnectionCap(t *testing.T) {
	s, idle := startIdle(t, 2, 2)
	get := func(timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		var h map[string]any
		return GetJSON(ctx, "http://"+s.Addr()+"/health/check", &h)
	}
	if err := get(300 * time.Millisecond); err == nil {
		t.Fatal("a request was served while idle connections held the whole cap")
	}
	idle[0].Close()
	if err := get(5 * time.Second); err != nil {
		t.Fatalf("a request after an idle connection closed: %v", err)
	}
}

// TestConnectionCapPerIP: one source IP holds at most its share of the
// connection cap (the rest of its connections are closed at once), so a
// health check from another address is served meanwhile.
func TestConnectionCapPerIP(t *testing.T) {
	s, idle := startIdle(t, 2, 1)
	// The second is over its IP's cap: closed without a byte. The
	// deadline only keeps a failing test from hanging.
	_ = idle[1].SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := idle[1].Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("a connection over its IP's cap read %d bytes, %v; want it closed", n, err)
	}
	other := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Addr()+"/health/check", nil)
	resp, err := other.Do(req)
	if err != nil {
		t.Fatalf("a health check from another address while one held its cap: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health check answered %d", resp.StatusCode)
	}
}

// startIdle starts a server with the connection caps given and opens two
// connections to it from 127.0.0.1 that send nothing.
func startIdle(t *testing.T, maxConns, maxPerIP int) (*Server, []net.Conn) {
	s := New("127.0.0.1:0", func() (bool, any) { return true, nil }, nil)
	s.maxConns, s.maxPerIP = maxConns, maxPerIP
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		idle = append(idle, c)
	}
	return s, idle
}
