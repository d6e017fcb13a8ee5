package meta

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/metaclient"
	"github.com/roster-registry/roster/proto"
)

// TestDCEndpoints: remote data centers are added (upserted), listed and
// removed through the admin API, refused with a 400 when not valid or
// named as this cluster; every change reaches the data nodes (not the
// sessions) with a new config epoch, a data node's agent gets the list in
// its view, and the list survives a restart of meta.
func TestDCEndpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s := startMeta(t, openStore(t, path))
	waitLeader(t, s)
	call := func(path string, form url.Values, want int) string {
		t.Helper()
		code, body := postForm(t, s, path, form)
		if code != want {
			t.Fatalf("POST %s %v: status %d, want %d: %s", path, form, code, want, body)
		}
		return body
	}
	hb := &proto.NodeHeartbeat{Role: proto.RoleData, Node: proto.NodeInfo{ID: "d/1", RPCAddr: "127.0.0.1:1"}, DataCenter: "dc1"}
	nodeDCs := func(h *proto.NodeHeartbeat) []proto.RemoteDC {
		t.Helper()
		r := s.heartbeat(h).(*proto.NodeHeartbeatReply)
		if r.ConfigEpoch == 0 {
			t.Fatal("no config in the heartbeat reply")
		}
		h.ConfigEpoch = r.ConfigEpoch
		return r.RemoteDCs
	}
	list := func() DCListJSON {
		t.Helper()
		var l DCListJSON
		if code := httpGet(t, s, "/api/dc/list", &l); code != http.StatusOK {
			t.Fatalf("list: %d", code)
		}
		return l
	}
	if l := list(); l.DataCenter != proto.DefaultDataCenter || len(l.Remotes) != 0 {
		t.Fatalf("empty list: %+v", l)
	}
	if len(nodeDCs(hb)) != 0 {
		t.Fatal("remote DCs before any was added")
	}
	agent := startDCAgent(t, s, "127.0.0.1:7", "dc1")

	for name, form := range map[string]url.Values{
		"own name":     {"name": {"dc1"}, "meta": {"10.0.0.1:9610"}},
		"no name":      {"meta": {"10.0.0.1:9610"}},
		"bad name":     {"name": {"dc 2"}, "meta": {"10.0.0.1:9610"}},
		"no meta":      {"name": {"dc2"}},
		"no port":      {"name": {"dc2"}, "meta": {"10.0.0.1"}},
		"bad port":     {"name": {"dc2"}, "meta": {"10.0.0.1:99999"}},
		"bad sync":     {"name": {"dc2"}, "meta": {"10.0.0.1:9610"}, "sync": {"maybe"}},
		"bad push":     {"name": {"dc2"}, "meta": {"10.0.0.1:9610"}, "pushRemote": {"yes"}},
		"long pattern": {"name": {"dc2"}, "meta": {"10.0.0.1:9610"}, "deny": {strings.Repeat("x", proto.MaxIDLen+1)}},
	} {
		if code, body := postForm(t, s, "/api/dc/add", form); code != http.StatusBadRequest || !strings.Contains(body, "error") {
			t.Errorf("%s: status %d: %s", name, code, body)
		}
	}
	if len(list().Remotes) != 0 {
		t.Fatal("a refused add changed the list")
	}

	call("/api/dc/add", url.Values{"name": {"dc3"}, "meta": {"10.1.0.1:9610"}, "sync": {"false"}}, http.StatusOK)
	call("/api/dc/add", url.Values{"name": {"dc2"}, "meta": {"10.0.0.1:9610, 10.0.0.2:9610"}, "allow": {"com.example.*"},
		"deny": {"com.example.secret", "x#@#*"}}, http.StatusOK)
	want := []proto.RemoteDC{
		{Name: "dc2", MetaAddrs: []string{"10.0.0.1:9610", "10.0.0.2:9610"}, Sync: true, PushRemote: true,
			Allow: []string{"com.example.*"}, Deny: []string{"com.example.secret", "x#@#*"}},
		{Name: "dc3", MetaAddrs: []string{"10.1.0.1:9610"}, PushRemote: true},
	}
	same := func(got []proto.RemoteDC) bool {
		return slices.EqualFunc(got, want, func(a, b proto.RemoteDC) bool {
			return a.Name == b.Name && slices.Equal(a.MetaAddrs, b.MetaAddrs) && a.Sync == b.Sync && a.PushRemote == b.PushRemote &&
				slices.Equal(a.Allow, b.Allow) && slices.Equal(a.Deny, b.Deny)
		})
	}
	if got := nodeDCs(hb); !same(got) {
		t.Fatalf("data node got %+v", got)
	}
	sess := &proto.NodeHeartbeat{Role: proto.RoleSession, Node: proto.NodeInfo{ID: "s/1", RPCAddr: "127.0.0.1:2"}}
	if got := nodeDCs(sess); len(got) != 0 {
		t.Fatalf("a session got the remote DCs: %+v", got)
	}
	// A data node that names no data center predates them: it would not
	// decode the list.
	old := &proto.NodeHeartbeat{Role: proto.RoleData, Node: proto.NodeInfo{ID: "d/2", RPCAddr: "127.0.0.1:3"}}
	if got := nodeDCs(old); len(got) != 0 {
		t.Fatalf("an older data node got the remote DCs: %+v", got)
	}
	if l := list(); len(l.Remotes) != 2 || l.Remotes[0].Name != "dc2" || l.Remotes[1].Sync || !l.Remotes[1].PushRemote || l.Remotes[1].Allow == nil {
		t.Fatalf("list: %+v", l)
	}
	waitFor(t, "the data node's agent to get the remote DCs", func() bool { return same(agent.View().Config.RemoteDCs) })

	// Upsert: replaces the whole entry.
	call("/api/dc/add", url.Values{"name": {"dc3"}, "meta": {"10.1.0.9:9610"}, "pushRemote": {"false"}}, http.StatusOK)
	want[1] = proto.RemoteDC{Name: "dc3", MetaAddrs: []string{"10.1.0.9:9610"}, Sync: true}
	if got := nodeDCs(hb); !same(got) {
		t.Fatalf("after an upsert: %+v", got)
	}

	// Kept in the store: a restarted meta has them.
	stopMeta(t, s)
	s = startMeta(t, openStore(t, path))
	waitLeader(t, s)
	hb.ConfigEpoch = 0
	if got := nodeDCs(hb); !same(got) {
		t.Fatalf("after a restart: %+v", got)
	}
	call("/api/dc/remove", url.Values{"name": {"dc2"}}, http.StatusOK)
	call("/api/dc/remove", url.Values{"name": {"dc2"}}, http.StatusNotFound)
	call("/api/dc/remove", url.Values{}, http.StatusBadRequest)
	want = want[1:]
	if got := nodeDCs(hb); !same(got) {
		t.Fatalf("after remove: %+v", got)
	}
	// Writes are admin requests: a browser's page cannot make them.
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.HTTPAddr()+"/api/dc/remove", strings.NewReader("name=dc3"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 == 2 || len(list().Remotes) != 1 {
		t.Fatalf("a web page's request: status %d, list %+v", resp.StatusCode, list())
	}
}

// TestDCLimit: at most proto.MaxRemoteDCs remote data centers.
func TestDCLimit(t *testing.T) {
	s := startMeta(t, openStore(t, filepath.Join(t.TempDir(), "meta.db")))
	waitLeader(t, s)
	for i := range proto.MaxRemoteDCs {
		if code, body := postForm(t, s, "/api/dc/add", url.Values{"name": {fmt.Sprintf("dc%d", i+2)}, "meta": {"10.0.0.1:9610"}}); code != http.StatusOK {
			t.Fatalf("add %d: %d %s", i, code, body)
		}
	}
	if code, _ := postForm(t, s, "/api/dc/add", url.Values{"name": {"one-more"}, "meta": {"10.0.0.1:9610"}}); code != http.StatusConflict {
		t.Fatalf("over the limit: status %d", code)
	}
	// Replacing one is not adding one.
	if code, _ := postForm(t, s, "/api/dc/add", url.Values{"name": {"dc2"}, "meta": {"10.0.0.2:9610"}}); code != http.StatusOK {
		t.Fatalf("upsert at the limit: status %d", code)
	}
}

// TestDCStatus: meta asks every live data node for its import status and
// aggregates it per remote data center; a node that does not answer is
// listed as unreachable and the link is not called up.
func TestDCStatus(t *testing.T) {
	s := startMeta(t, openStore(t, filepath.Join(t.TempDir(), "meta.db")))
	waitLeader(t, s)
	for _, name := range []string{"dc2", "dc3"} {
		if code, body := postForm(t, s, "/api/dc/add", url.Values{"name": {name}, "meta": {"10.0.0.1:9610"}}); code != http.StatusOK {
			t.Fatalf("add: %d %s", code, body)
		}
	}
	fake := func(list []proto.DCImportStatus) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/api/dc/status" {
				http.NotFound(w, r)
				return
			}
			_ = json.NewEncoder(w).Encode(list)
		}))
		t.Cleanup(srv.Close)
		return strings.TrimPrefix(srv.URL, "http://")
	}
	repairA, repairB := "2026-01-02T03:04:05Z", "2026-01-02T03:00:00Z"
	a := fake([]proto.DCImportStatus{
		{Name: "dc2", LinkUp: true, SlotsLed: 3, SlotsImporting: 3, LagMillis: 40, Publishers: 10, LastRepair: repairA},
		{Name: "dc3", LinkUp: true, SlotsLed: 3, SlotsImporting: 3, LagMillis: 5, Publishers: 1, LastRepair: repairA},
	})
	b := fake([]proto.DCImportStatus{
		{Name: "dc2", LinkUp: false, SlotsLed: 2, SlotsImporting: 1, LagMillis: 900, StaleMillis: 3000, Publishers: 7, LastRepair: repairB},
		{Name: "dc3", LinkUp: true, SlotsLed: 2, SlotsImporting: 2, LagMillis: 9, Publishers: 2, LastRepair: repairB},
	})
	// A port nothing listens on: the node does not answer.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()

	beat := func(id, rpc, httpAddr string) {
		hb := &proto.NodeHeartbeat{Role: proto.RoleData, Node: proto.NodeInfo{ID: id, RPCAddr: rpc, HTTPAddr: httpAddr}}
		if _, ok := s.heartbeat(hb).(*proto.NodeHeartbeatReply); !ok {
			t.Fatal("heartbeat refused")
		}
	}
	status := func() DCStatusAllJSON {
		t.Helper()
		var st DCStatusAllJSON
		if code := httpGet(t, s, "/api/dc/status", &st); code != http.StatusOK {
			t.Fatalf("status: %d", code)
		}
		return st
	}
	beat("a/1", "127.0.0.1:1", a)
	beat("b/1", "127.0.0.1:2", b)
	st := status()
	if st.DataCenter != "dc1" || st.DataNodes != 2 || len(st.Unreachable) != 0 || len(st.Remotes) != 2 {
		t.Fatalf("status: %+v", st)
	}
	d2, d3 := st.Remotes[0], st.Remotes[1]
	if d2.Name != "dc2" || d2.LinkUp || d2.SlotsLed != 5 || d2.SlotsImporting != 4 || d2.MaxLagMillis != 900 || d2.MaxStaleMillis != 3000 ||
		d2.Publishers != 17 || d2.OldestLastRepair != repairB || len(d2.Nodes) != 2 || !d2.Nodes[0].Reported || d2.Nodes[0].Node != "127.0.0.1:1" {
		t.Fatalf("dc2: %+v", d2)
	}
	if d3.Name != "dc3" || !d3.LinkUp || d3.SlotsLed != 5 || d3.Publishers != 3 || d3.MaxLagMillis != 9 {
		t.Fatalf("dc3: %+v", d3)
	}

	beat("c/1", "127.0.0.1:3", dead)
	st = status()
	if st.DataNodes != 3 || len(st.Unreachable) != 1 || st.Unreachable[0].Node != "127.0.0.1:3" || st.Remotes[1].LinkUp || len(st.Remotes[1].Nodes) != 2 {
		t.Fatalf("with an unreachable node: %+v", st)
	}

	// A follower does not know the live nodes.
	f := startMeta(t, s.cfg.Store)
	var res map[string]any
	if code := httpGet(t, f, "/api/dc/status", &res); code != http.StatusServiceUnavailable {
		t.Fatalf("a follower answered %d", code)
	}
}

// TestNodeOfAnotherDCRefused: meta refuses the heartbeats of a node whose
// data center is not its own, and takes those of its own data center and
// of nodes that name none (older ones).
func TestNodeOfAnotherDCRefused(t *testing.T) {
	s := startMeta(t, openStore(t, filepath.Join(t.TempDir(), "meta.db")))
	waitLeader(t, s)
	refused := metrics.GetOrCreateCounter(`roster_meta_unauthorized_total{type="NodeHeartbeat"}`)
	before := refused.Get()
	other := startDCAgent(t, s, "127.0.0.1:3", "dc2")
	own := startDCAgent(t, s, "127.0.0.1:1", "dc1")
	old := startDCAgent(t, s, "127.0.0.1:2", "")
	waitFor(t, "the heartbeats of the other DC's node to be refused", func() bool { return refused.Get() > before })
	waitFor(t, "the nodes of this DC to register", func() bool {
		n := own.View().DataNodes
		return len(n) == 2 && old.View().MetaEpoch != 0
	})
	for _, n := range own.View().DataNodes {
		if n.RPCAddr == "127.0.0.1:3" {
			t.Fatal("the node of another data center registered")
		}
	}
	if v := other.View(); v.MetaEpoch != 0 || !other.LastContact().IsZero() {
		t.Fatalf("the node of another data center got a view: %+v", v)
	}
}

// startDCAgent starts the agent of a data node of data center dc at
// rpcAddr, heartbeating to s.
func startDCAgent(t *testing.T, s *Server, rpcAddr, dc string) *metaclient.Agent {
	t.Helper()
	node := proto.NodeInfo{ID: fmt.Sprintf("%s/%d", rpcAddr, time.Now().UnixNano()), RPCAddr: rpcAddr}
	a := metaclient.New(metaclient.Config{MetaAddrs: []string{s.RPCAddr()}, Role: proto.RoleData, Node: node,
		Auth: testAuth(t, proto.RoleData, node.ID, node.RPCAddr), Interval: 40 * time.Millisecond, Logger: quiet, DataCenter: dc})
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopAgent(t, a) })
	return a
}
