package main

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/meta"
)

// TestCtlDrainAndUndrain drains a data node and a session with `ctl
// drain`, which waits until they are drained, and lets them back with `ctl
// undrain`: the data node leads and follows nothing while drained and
// follows again after; the session's client moves, and the session leaves
// the session list clients fetch while drained.
func TestCtlDrainAndUndrain(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{DataNodes: 2, Sessions: 2})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s0, s1 := c.Sessions[0], c.Sessions[1]
	cl, err := client.New(ctx, client.Config{Sessions: []string{s0.ClientAddr()}, AppName: "ctldrain", Logger: c.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Publish(ctx, client.Publication{DataID: "com.example.CtlDrain:1.0", Data: []string{"10.0.0.1:1"}}); err != nil {
		t.Fatal(err)
	}
	m := "--meta=" + c.Meta.HTTPAddr()
	d0 := c.Data[0].Name()

	var nodes []meta.DrainNodeJSON
	ctlJSON(t, &nodes, m, "drain", d0, s0.ClientAddr())
	if len(nodes) != 2 || !nodes[0].Draining || !nodes[1].Draining || !nodes[0].Drained || !nodes[1].Drained {
		t.Fatalf("ctl drain answered %+v", nodes)
	}
	for _, sl := range c.Meta.SlotTable().Slots {
		if sl.Leader == d0 || slices.Contains(sl.Followers, d0) {
			t.Fatalf("slot %d still on the drained node: %+v", sl.ID, sl)
		}
	}
	if !s0.Draining() || s0.HasClient(cl.ClientID()) {
		t.Fatalf("session 0 draining %v, client on 0 %v", s0.Draining(), s0.HasClient(cl.ClientID()))
	}
	// Drained means session 0 holds no client; the client's move to
	// session 1 may still be finishing its handshake.
	testcluster.Eventually(t, 10*time.Second, func() bool { return s1.HasClient(cl.ClientID()) }, "the client on session 1")
	testcluster.Eventually(t, 10*time.Second, func() bool {
		list := serversList(t, s1.HTTPAddr())
		return len(list) == 1 && list[0] == s1.ClientAddr()
	}, "session 1 listing itself only")
	var st StatusJSON
	ctlJSON(t, &st, m, "status")
	if len(st.Draining) != 2 {
		t.Fatalf("status shows draining %+v", st.Draining)
	}
	if out, err := ctlRun(t, m, "status"); err != nil || !strings.Contains(out, "DRAINING") {
		t.Fatalf("status: %v\n%s", err, out)
	}

	ctlJSON(t, &nodes, m, "undrain", d0, s0.ClientAddr())
	if len(nodes) != 2 || nodes[0].Draining || nodes[1].Draining {
		t.Fatalf("ctl undrain answered %+v", nodes)
	}
	if s0.Draining() {
		t.Fatal("session 0 still draining")
	}
	testcluster.Eventually(t, 10*time.Second, func() bool {
		for _, sl := range c.Meta.SlotTable().Slots {
			if sl.Leader == d0 || slices.Contains(sl.Followers, d0) {
				return len(serversList(t, s1.HTTPAddr())) == 2
			}
		}
		return false
	}, "the undrained data node holding slots again and session 0 listed again")
	if _, err := ctlRun(t, m, "drain", "127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("drain of an unknown node: %v", err)
	}
}

func serversList(t *testing.T, httpAddr string) []string {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/api/servers/query")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []string
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	return list
}
