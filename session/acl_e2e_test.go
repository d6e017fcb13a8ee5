package session_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// aclAdmin sends a credential change to meta and returns the token it
// answers, if any.
func aclAdmin(t *testing.T, c *testcluster.Cluster, path string, form url.Values) string {
	t.Helper()
	resp, err := opshttp.DoAdmin(ctx(t), http.MethodPost, "http://"+c.Meta.HTTPAddr()+path, form, "")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s: %s", path, resp.Status, body)
	}
	var res struct {
		Token string `json:"token"`
	}
	_ = json.Unmarshal(body, &res)
	return res.Token
}

func waitCredentials(t *testing.T, c *testcluster.Cluster, n int, enforced bool) {
	t.Helper()
	testcluster.Eventually(t, 10*time.Second, func() bool {
		got, on := c.Sessions[0].Credentials()
		return got == n && on == enforced
	}, "the session to apply the credentials")
}

func wantRefused(t *testing.T, err error, sentinel error, text string) {
	t.Helper()
	if !errors.Is(err, sentinel) || !strings.Contains(err.Error(), text) {
		t.Fatalf("got %v, want %v naming %q", err, sentinel, text)
	}
}

// TestCredentials: per-application credentials kept by meta bound what a
// client may do, a refusal names the missing permission, every change
// (permissions, enforcement, deletion) applies to connected clients'
// next operations without a restart, and a wrong token closes the
// connection, its repetition from one IP rate-limited.
func TestCredentials(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	addrs := c.SessionAddrs()
	anonymous := newClient(t, addrs, "") // connected while no credential is required
	orders := aclAdmin(t, c, "/api/acl/create", url.Values{"name": {"orders-svc"}, "app": {"orders"},
		"publish": {"com.example.orders.*"}, "subscribe": {"com.example.*"}})
	audit := aclAdmin(t, c, "/api/acl/create", url.Values{"name": {"audit"}, "app": {"audit"}, "subscribe": {"*"}})
	waitCredentials(t, c, 2, false)

	cl, err := client.New(ctx(t), client.Config{Sessions: addrs, AppName: "orders", Token: orders, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	if _, err := cl.Publish(ctx(t), client.Publication{DataID: "com.example.orders.Api", Data: []string{"a"}}); err != nil {
		t.Fatalf("a permitted publish: %v", err)
	}
	_, err = cl.Publish(ctx(t), client.Publication{DataID: "com.example.Pay", Data: []string{"a"}})
	wantRefused(t, err, client.ErrForbidden, "credential orders-svc may not publish com.example.Pay")
	if _, err := cl.Subscribe(ctx(t), client.Subscription{DataID: "com.example.Pay"}, nil); err != nil {
		t.Fatalf("a permitted subscribe: %v", err)
	}
	_, err = cl.Subscribe(ctx(t), client.Subscription{DataID: "org.other.Svc"}, nil)
	wantRefused(t, err, client.ErrForbidden, "credential orders-svc may not subscribe org.other.Svc")
	// Bound to its app: it cannot publish in another's name.
	raw := rawLink(t, addrs[0], false)
	var hr proto.HandshakeReply
	if err := netio.Call(ctx(t), raw, &proto.Handshake{Version: proto.ProtocolVersion, ClientID: "raw", Token: orders}, &hr); err != nil {
		t.Fatal(err)
	}
	p := pub("com.example.orders.Api#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP", "r", 1, "x")
	p.AppName = "payments"
	wantCode(t, netio.Call(ctx(t), raw, p, new(proto.Result)), proto.CodeForbidden)

	// A permission granted applies to the connected client's next publish.
	aclAdmin(t, c, "/api/acl/update", url.Values{"name": {"orders-svc"}, "publish": {"com.example.orders.*,com.example.Pay"}})
	testcluster.Eventually(t, 10*time.Second, func() bool {
		_, err := cl.Publish(ctx(t), client.Publication{DataID: "com.example.Pay", Data: []string{"b"}})
		return err == nil
	}, "the new permission to apply")

	// Enforcement: the anonymous client's next operation is refused, and
	// so is a new client without a credential.
	aclAdmin(t, c, "/api/acl/enforce", url.Values{"on": {"true"}})
	waitCredentials(t, c, 2, true)
	_, err = anonymous.Publish(ctx(t), client.Publication{DataID: "svc", Data: []string{"x"}})
	wantRefused(t, err, client.ErrUnauthorized, "credentials are enforced")
	_, err = client.New(ctx(t), client.Config{Sessions: addrs, Logger: quiet})
	wantRefused(t, err, client.ErrUnauthorized, "a credential's token is required")

	// A deleted credential: its connected client is refused at once.
	auditor, err := client.New(ctx(t), client.Config{Sessions: addrs, AppName: "audit", Token: audit, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = auditor.Close() })
	if _, err := auditor.Subscribe(ctx(t), client.Subscription{DataID: "anything"}, nil); err != nil {
		t.Fatal(err)
	}
	aclAdmin(t, c, "/api/acl/delete", url.Values{"name": {"audit"}})
	waitCredentials(t, c, 1, true)
	_, err = auditor.Subscribe(ctx(t), client.Subscription{DataID: "anything.else"}, nil)
	wantRefused(t, err, client.ErrUnauthorized, "credential audit was deleted")

	// A wrong token: refused, and the connection closed.
	bad := rawLink(t, addrs[0], false)
	err = netio.Call(ctx(t), bad, &proto.Handshake{Version: proto.ProtocolVersion, ClientID: "bad", Token: "orders-svc.WRONG"}, &hr)
	wantCode(t, err, proto.CodeUnauthorized)
	testcluster.Eventually(t, 5*time.Second, func() bool { return bad.Err() != nil }, "the session to close the connection")

	// Repeated from the same IP, failures are rate-limited: the handshake is
	// refused before its token is looked at, the right one too.
	throttled := false
	for i := 0; i < 30 && !throttled; i++ {
		l := rawLink(t, addrs[0], false)
		err := netio.Call(ctx(t), l, &proto.Handshake{Version: proto.ProtocolVersion, ClientID: "bad", Token: "orders-svc.WRONG"}, &hr)
		var r *proto.Result
		if !errors.As(err, &r) {
			t.Fatalf("attempt %d: %v", i, err)
		}
		throttled = r.Code == proto.CodeRateLimited
	}
	if !throttled {
		t.Fatal("30 failed authentications in a row were never rate-limited")
	}
	l := rawLink(t, addrs[0], false)
	wantCode(t, netio.Call(ctx(t), l, &proto.Handshake{Version: proto.ProtocolVersion, ClientID: "raw2", Token: orders}, &hr), proto.CodeRateLimited)
}
