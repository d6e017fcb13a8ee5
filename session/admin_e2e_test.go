package session_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/session"
)

// TestSessionAdminAccess: with --protect-reads a session's digests need the
// admin token, and a session whose HTTP address is not loopback-only does
// not start without one.
func TestSessionAdminAccess(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Session: func(cfg *session.Config) {
		cfg.Admin = opshttp.AdminConfig{Token: "s3cret", ProtectReads: true}
	}})
	u := "http://" + c.Sessions[0].HTTPAddr() + "/digest/pub/data/query?dataInfoId=x"
	get := func(token string) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx(t), http.MethodGet, u, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(""); code != http.StatusUnauthorized {
		t.Fatalf("digest without the token: %d", code)
	}
	if code := get("s3cret"); code != http.StatusOK {
		t.Fatalf("digest with the token: %d", code)
	}

	s, err := session.New(session.Config{ClientAddr: "127.0.0.1:0", HTTPAddr: ":0", MetaAddrs: []string{c.Meta.RPCAddr()},
		Credentials: c.Credentials(proto.RoleSession, "127.0.0.1:0"), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Start(context.Background())
	if err == nil {
		_ = s.Stop(context.Background())
	}
	if !errors.Is(err, opshttp.ErrAdminUnprotected) {
		t.Fatalf("a session serving HTTP on every interface without a token started: %v", err)
	}
}
