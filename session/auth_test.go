package session

import (
	"log/slog"
	"testing"

	"golang.org/x/time/rate"

	"github.com/roster-registry/roster/internal/acl"
	"github.com/roster-registry/roster/proto"
)

// TestHandshakeAuthentication walks the decision table of auth.go.
func TestHandshakeAuthentication(t *testing.T) {
	token := acl.NewToken("orders-svc")
	creds := []proto.Credential{{Name: "orders-svc", App: "orders", TokenHash: acl.HashToken(token)}}
	f := func(shared string, a proto.ACL, hs proto.Handshake, wantCode proto.Code, wantCred string) {
		t.Helper()
		st := newAuthState(shared, slog.New(slog.DiscardHandler))
		st.setACL(a)
		cred, res := st.handshake("10.0.0.1", &hs)
		code := proto.CodeOK
		if res != nil {
			code = res.Code
		}
		name := ""
		if cred != nil {
			name = cred.Name
		}
		if code != wantCode || name != wantCred {
			t.Fatalf("shared %q, %d credentials (enforced %v), handshake token %q app %q: %s %q, want %s %q",
				shared, len(a.Credentials), a.Enforce, hs.Token, hs.AppName, code, name, wantCode, wantCred)
		}
	}
	open := proto.ACL{}
	some := proto.ACL{Credentials: creds}
	enforced := proto.ACL{Credentials: creds, Enforce: true}
	f("", open, proto.Handshake{}, proto.CodeOK, "")
	f("", open, proto.Handshake{Token: "whatever"}, proto.CodeUnauthorized, "") // a token no one can check is refused
	f("s3cret", open, proto.Handshake{Token: "s3cret"}, proto.CodeOK, "")
	f("s3cret", open, proto.Handshake{Token: "s3cre"}, proto.CodeUnauthorized, "")
	f("s3cret", open, proto.Handshake{}, proto.CodeUnauthorized, "")
	f("", some, proto.Handshake{}, proto.CodeOK, "") // not enforced: anonymous clients still come in
	f("", some, proto.Handshake{Token: token}, proto.CodeOK, "orders-svc")
	f("", some, proto.Handshake{Token: token, AppName: "orders"}, proto.CodeOK, "orders-svc")
	f("", some, proto.Handshake{Token: token, AppName: "payments"}, proto.CodeUnauthorized, "")
	f("", some, proto.Handshake{Token: acl.NewToken("orders-svc")}, proto.CodeUnauthorized, "")
	f("s3cret", some, proto.Handshake{Token: token}, proto.CodeOK, "orders-svc") // a credential passes the shared gate
	f("", enforced, proto.Handshake{}, proto.CodeUnauthorized, "")
	f("s3cret", enforced, proto.Handshake{Token: "s3cret"}, proto.CodeUnauthorized, "") // enforced: the shared token is not enough
	f("", enforced, proto.Handshake{Token: token}, proto.CodeOK, "orders-svc")
}

// TestAuthFailuresBounded: failures are limited per IP, and the table of
// IPs stays within its bound.
func TestAuthFailuresBounded(t *testing.T) {
	var f failureTable
	f.ips = make(map[string]*rate.Limiter)
	for range authFailureBurst {
		if !f.allowed("10.0.0.1") {
			t.Fatal("refused within the burst")
		}
		f.failed("10.0.0.1")
	}
	if f.allowed("10.0.0.1") {
		t.Fatal("allowed past the burst")
	}
	if !f.allowed("10.0.0.2") {
		t.Fatal("another IP refused")
	}
	for i := range 2 * maxAuthFailureIPs {
		f.failed(string(rune(i)) + "ip")
	}
	if n := len(f.ips); n > maxAuthFailureIPs {
		t.Fatalf("%d IPs tracked, bound %d", n, maxAuthFailureIPs)
	}
}

// FuzzHandshakeAuth: whatever a client sends, only the exact shared token
// or a credential's exact token gets in, and nothing panics.
func FuzzHandshakeAuth(f *testing.F) {
	token := acl.NewToken("orders-svc")
	f.Add("", "")
	f.Add(token, "orders")
	f.Add("orders-svc.", "")
	f.Add("s3cret", "x")
	f.Fuzz(func(t *testing.T, tok, app string) {
		st := newAuthState("s3cret", slog.New(slog.DiscardHandler))
		st.setACL(proto.ACL{Credentials: []proto.Credential{{Name: "orders-svc", App: "orders", TokenHash: acl.HashToken(token)}}})
		cred, res := st.handshake("10.0.0.1", &proto.Handshake{Token: tok, AppName: app})
		switch {
		case res == nil && cred == nil && tok != "s3cret":
			t.Fatalf("token %q let in without a credential", tok)
		case res == nil && cred != nil && (tok != token || app != "" && app != "orders"):
			t.Fatalf("token %q app %q let in as %s", tok, app, cred.Name)
		case res != nil && (tok == "s3cret" || tok == token && (app == "" || app == "orders")):
			t.Fatalf("token %q app %q refused: %s", tok, app, res.Message)
		}
	})
}
