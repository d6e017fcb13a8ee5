package main

import (
	"strings"
	"testing"

	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/meta"
)

// TestCtlDC links, lists, relinks and unlinks remote data centers with
// roster ctl dc, and asks for their status.
func TestCtlDC(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	m := "--meta=" + c.Meta.HTTPAddr()
	out, err := ctlRun(t, m, "dc", "add", "dc2", "--meta", "10.0.0.1:9610,10.0.0.2:9610", "--deny", "com.secret.*")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "dc2") || !strings.Contains(out, "10.0.0.1:9610,10.0.0.2:9610") || !strings.Contains(out, "com.secret.*") {
		t.Fatalf("add printed:\n%s", out)
	}
	if _, err := ctlRun(t, m, "dc", "add", "dc3", "--sync=false", "--push-remote=false", "--meta=10.1.0.1:9610", "--allow", "a.*,b.*"); err != nil {
		t.Fatal(err)
	}
	if _, err := ctlRun(t, m, "dc", "add", "dc4"); err == nil || !strings.Contains(err.Error(), "--meta is required") {
		t.Fatalf("add without --meta: %v", err)
	}
	if _, err := ctlRun(t, m, "dc", "add", "dc1", "--meta", "10.0.0.1:9610"); err == nil || !strings.Contains(err.Error(), "own") {
		t.Fatalf("add of this cluster's own name: %v", err)
	}
	var l meta.DCListJSON
	ctlJSON(t, &l, m, "dc", "list")
	if l.DataCenter != "dc1" || len(l.Remotes) != 2 || l.Remotes[0].Name != "dc2" || !l.Remotes[0].Sync || l.Remotes[1].Sync ||
		l.Remotes[1].PushRemote || strings.Join(l.Remotes[1].Allow, ",") != "a.*,b.*" {
		t.Fatalf("list: %+v", l)
	}
	out, err = ctlRun(t, m, "dc", "list")
	if err != nil || !strings.Contains(out, "data center dc1") || !strings.Contains(out, "REMOTE DC") || !strings.Contains(out, "10.1.0.1:9610") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if _, err := ctlRun(t, m, "dc", "remove", "dc3"); err != nil {
		t.Fatal(err)
	}
	if _, err := ctlRun(t, m, "dc", "remove", "dc3"); err == nil || !strings.Contains(err.Error(), "no remote data center") {
		t.Fatalf("remove twice: %v", err)
	}
	// The data nodes of this build may not serve their import status:
	// the link is then not called up.
	var st meta.DCStatusAllJSON
	ctlJSON(t, &st, m, "dc", "status")
	if st.DataCenter != "dc1" || st.DataNodes == 0 || len(st.Remotes) != 1 || st.Remotes[0].Name != "dc2" || st.Remotes[0].LinkUp {
		t.Fatalf("status: %+v", st)
	}
	out, err = ctlRun(t, m, "dc", "status")
	if err != nil || !strings.Contains(out, "data center dc1") || !strings.Contains(out, "dc2") {
		t.Fatalf("status: %v\n%s", err, out)
	}
	if out, err := ctlRun(t, m, "status"); err != nil || !strings.Contains(out, "data center") {
		t.Fatalf("status: %v\n%s", err, out)
	}
}
