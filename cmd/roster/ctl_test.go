package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/data"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/meta"
	"github.com/roster-registry/roster/metaclient"
	"github.com/roster-registry/roster/session"
	"github.com/roster-registry/roster/slotstore"
)

// ctlRun runs `roster ctl args...` and returns what it printed.
func ctlRun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := runCtl(args, &out)
	return out.String(), err
}

func ctlJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out, err := ctlRun(t, append([]string{"--json"}, args...)...)
	if err != nil {
		t.Fatalf("ctl %v: %v", args, err)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("ctl %v: cannot parse --json output: %v\n%s", args, err, out)
	}
}

// TestCtlAgainstCluster runs ctl's commands, and the admin queries behind
// them on every role, against an in-process cluster.
func TestCtlAgainstCluster(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{DataNodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := client.New(ctx, client.Config{Sessions: c.SessionAddrs(), AppName: "ctltest", Logger: c.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const dataID = "com.example.Ctl:1.0"
	if _, err := cl.Publish(ctx, client.Publication{DataID: dataID, Data: []string{"10.0.0.9:12200"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Subscribe(ctx, client.Subscription{DataID: dataID, Scope: client.ScopeDataCenter}, func(client.Update) {}); err != nil {
		t.Fatal(err)
	}
	m := "--meta=" + c.Meta.HTTPAddr()

	var st StatusJSON
	ctlJSON(t, &st, m, "status")
	leaders := 0
	for _, n := range st.DataNodes {
		leaders += n.Leaders
	}
	if !st.Leader.IsLeader || len(st.DataNodes) != 2 || leaders != st.Slots || st.Slots != 16 || len(st.Sessions) != 1 {
		t.Fatalf("unexpected status: %+v", st)
	}
	out, err := ctlRun(t, m, "status")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"meta leader", "DATA NODE", c.Data[0].Name(), c.Data[1].Name(), c.Sessions[0].ClientAddr()} {
		if !strings.Contains(out, want) {
			t.Fatalf("status lacks %q:\n%s", want, out)
		}
	}

	var slots meta.SlotTableStatusJSON
	out, err = ctlRun(t, "slots", m, "--json") // flags after the command too
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &slots); err != nil {
		t.Fatalf("slots --json: %v\n%s", err, out)
	}
	if len(slots.Slots) != 16 || slots.Epoch != st.SlotTableEpoch {
		t.Fatalf("unexpected slots: %+v", slots)
	}

	var d data.DatumJSON
	testcluster.Eventually(t, 10*time.Second, func() bool {
		ctlJSON(t, &d, m, "datum", dataID)
		return len(d.Publishers) == 1
	}, "the publisher at its slot's leader")
	if d.DataInfoID != slotstore.DataInfoID(dataID, "", "") || d.Publishers[0].Data[0] != "10.0.0.9:12200" {
		t.Fatalf("unexpected datum: %+v", d)
	}
	if out, err = ctlRun(t, m, "datum", dataID); err != nil || !strings.Contains(out, "10.0.0.9:12200") {
		t.Fatalf("datum table: %v\n%s", err, out)
	}

	var conns []session.ConnectionsJSON
	ctlJSON(t, &conns, m, "conns")
	if len(conns) != 1 || conns[0].Connections != 1 || len(conns[0].ByIP) != 1 ||
		conns[0].ByIP[0] != (session.IPCountJSON{ClientIP: "127.0.0.1", Connections: 1, Publishers: 1, Subscribers: 1}) {
		t.Fatalf("unexpected conns: %+v", conns)
	}
	var ip []IPSessionJSON
	ctlJSON(t, &ip, m, "ip", "127.0.0.1")
	if len(ip) != 1 || len(ip[0].Answer.Publishers) != 1 || len(ip[0].Answer.Subscribers) != 1 ||
		ip[0].Answer.Connections[0].AppName != "ctltest" {
		t.Fatalf("unexpected ip answer: %+v", ip)
	}

	// The node lists and publishers by IP on the data and session roles.
	leader := c.Data[0]
	if c.Data[1].Table().LeaderOf(d.DataInfoID) == c.Data[1].Name() {
		leader = c.Data[1]
	}
	var byIP data.IPPublishersJSON
	if err := opshttp.GetJSON(ctx, "http://"+leader.HTTPAddr()+"/digest/pub/ip/query?ip=127.0.0.1", &byIP); err != nil {
		t.Fatal(err)
	}
	if len(byIP.Publishers) != 1 || byIP.Publishers[0].DataInfoID != d.DataInfoID {
		t.Fatalf("unexpected publishers by IP: %+v", byIP)
	}
	for _, base := range []string{leader.HTTPAddr(), c.Sessions[0].HTTPAddr()} {
		// A node's list is its last heartbeat reply's: it may lag meta's.
		testcluster.Eventually(t, 10*time.Second, func() bool {
			var nodes []meta.NodeJSON
			if err := opshttp.GetJSON(ctx, "http://"+base+"/digest/data/node/query", &nodes); err != nil {
				t.Fatal(err)
			}
			return len(nodes) == 2
		}, base+" to list both data nodes")
		var metas []metaclient.MetaAddrJSON
		if err := opshttp.GetJSON(ctx, "http://"+base+"/digest/meta/node/query", &metas); err != nil ||
			len(metas) != 1 || metas[0].RPCAddr != c.Meta.RPCAddr() {
			t.Fatalf("%s lists meta nodes %+v (%v), want %s", base, metas, err, c.Meta.RPCAddr())
		}
	}
}

func TestCtlErrors(t *testing.T) {
	f := func(want string, args ...string) {
		t.Helper()
		if _, err := ctlRun(t, args...); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("ctl %v: error %v, want one containing %q", args, err, want)
		}
	}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nothing listens there any more
	f("cannot reach", "--meta="+down.URL, "status")
	f("unknown command", "frobnicate")
	f("missing IP", "client-off")
	f("unknown action", "push", "pause")
}

// TestCtlAdminCall checks what ctl sends to an admin endpoint (form, bearer
// token, the leader among several meta nodes) against a stand-in meta.
func TestCtlAdminCall(t *testing.T) {
	follower := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opshttp.WriteJSON(w, http.StatusOK, meta.LeaderInfo{Leader: "10.0.0.1:9610"})
	}))
	defer follower.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /meta/leader/query", func(w http.ResponseWriter, r *http.Request) {
		opshttp.WriteJSON(w, http.StatusOK, meta.LeaderInfo{Leader: "10.0.0.1:9610", IsLeader: true})
	})
	mux.HandleFunc("POST /api/clientManager/clientOff", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			opshttp.WriteError(w, http.StatusUnauthorized, "bad token")
			return
		}
		opshttp.WriteJSON(w, http.StatusOK, map[string]any{"ips": strings.Split(r.FormValue("ips"), ",")})
	})
	leader := httptest.NewServer(mux)
	defer leader.Close()
	metas := "--meta=" + follower.URL + "," + leader.URL
	out, err := ctlRun(t, metas, "--token=tok", "client-off", "10.0.0.7", "10.0.0.8")
	if err != nil || !strings.Contains(out, "10.0.0.7, 10.0.0.8") {
		t.Fatalf("client-off: %v\n%s", err, out)
	}
	if _, err := ctlRun(t, metas, "--token=nope", "client-off", "10.0.0.7"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("client-off with a wrong token: %v", err)
	}
	if _, err := ctlRun(t, "--meta="+follower.URL, "push", "status"); err == nil || !strings.Contains(err.Error(), "10.0.0.1:9610") {
		t.Fatalf("push status with no leader among --meta: %v", err)
	}
}
