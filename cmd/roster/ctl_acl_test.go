package main

import (
	"strings"
	"testing"

	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/meta"
)

// TestCtlACL manages credentials with roster ctl acl.
func TestCtlACL(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	m := "--meta=" + c.Meta.HTTPAddr()
	out, err := ctlRun(t, m, "acl", "create", "orders-svc", "--app", "orders", "--publish", "com.example.orders.*", "--subscribe", "com.example.*,org.*")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "token: orders-svc.") || !strings.Contains(out, "com.example.orders.*") {
		t.Fatalf("create printed:\n%s", out)
	}
	if _, err := ctlRun(t, m, "acl", "create", "orders-svc", "--app", "orders"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("create twice: %v", err)
	}
	if _, err := ctlRun(t, m, "acl", "create", "no-app"); err == nil || !strings.Contains(err.Error(), "--app is required") {
		t.Fatalf("create without --app: %v", err)
	}
	if _, err := ctlRun(t, m, "acl", "update", "orders-svc", "--subscribe="); err != nil {
		t.Fatal(err)
	}
	var q meta.ACLJSON
	ctlJSON(t, &q, m, "acl", "list")
	if len(q.Credentials) != 1 || q.Credentials[0].App != "orders" || len(q.Credentials[0].Subscribe) != 0 || len(q.Credentials[0].Publish) != 1 {
		t.Fatalf("list after update: %+v", q)
	}
	out, err = ctlRun(t, m, "acl", "rotate", "orders-svc")
	if err != nil || !strings.Contains(out, "token: orders-svc.") {
		t.Fatalf("rotate: %v\n%s", err, out)
	}
	if _, err := ctlRun(t, m, "acl", "enforce", "on"); err != nil {
		t.Fatal(err)
	}
	if out, err := ctlRun(t, m, "acl", "list"); err != nil || !strings.Contains(out, "enforcement on") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if _, err := ctlRun(t, m, "acl", "delete", "orders-svc"); err == nil || !strings.Contains(err.Error(), "last one") {
		t.Fatalf("delete of the last enforced credential: %v", err)
	}
	if _, err := ctlRun(t, m, "acl", "enforce", "off"); err != nil {
		t.Fatal(err)
	}
	if _, err := ctlRun(t, m, "acl", "delete", "orders-svc"); err != nil {
		t.Fatal(err)
	}
	ctlJSON(t, &q, m, "acl", "list")
	if len(q.Credentials) != 0 || q.Enforce {
		t.Fatalf("list after delete: %+v", q)
	}
}
