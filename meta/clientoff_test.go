package meta

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/proto"
)

// postForm posts form to path on s as an admin request and returns the
// status and body.
func postForm(t *testing.T, s *Server, path string, form url.Values) (int, string) {
	t.Helper()
	return adminCall(t, s, http.MethodPost, path, form)
}

// adminCall sends an admin request as roster ctl does (no token) and
// returns the status and body.
func adminCall(t *testing.T, s *Server, method, path string, form url.Values) (int, string) {
	t.Helper()
	resp, err := opshttp.DoAdmin(context.Background(), method, "http://"+s.HTTPAddr()+path, form, "")
	if err != nil {
		t.Fatalf("cannot send %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func httpGet(t *testing.T, s *Server, path string, out any) int {
	t.Helper()
	resp, err := http.Get("http://" + s.HTTPAddr() + path)
	if err != nil {
		t.Fatalf("cannot get %s: %v", path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("cannot decode %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

func queryClientOff(t *testing.T, s *Server) []string {
	t.Helper()
	var ips []string
	if code := httpGet(t, s, "/api/clientManager/query", &ips); code != http.StatusOK {
		t.Fatalf("query: status %d", code)
	}
	return ips
}

func TestParseIPs(t *testing.T) {
	f := func(in []string, want []string, wantErr bool) {
		t.Helper()
		got, err := parseIPs(in)
		if (err != nil) != wantErr {
			t.Fatalf("parseIPs(%q): error %v, want error %v", in, err, wantErr)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("parseIPs(%q) = %q, want %q", in, got, want)
		}
	}
	f([]string{"10.0.0.1,10.0.0.2"}, []string{"10.0.0.1", "10.0.0.2"}, false)
	f([]string{" 10.0.0.1 , ,10.0.0.2,", "10.0.0.3"}, []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}, false)
	f([]string{"::ffff:10.0.0.1"}, []string{"10.0.0.1"}, false)
	f([]string{"2001:DB8::1"}, []string{"2001:db8::1"}, false)
	f([]string{"10.0.0.1,10.0.0"}, nil, true)
	f([]string{"10.0.0.1:80"}, nil, true)
	f([]string{"fe80::1%eth0"}, nil, true)
	f([]string{"host.example"}, nil, true)
	f([]string{""}, nil, true)
	f(nil, nil, true)
}

func TestClientOffEndpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	st := openStore(t, path)
	s := startMeta(t, st)
	waitLeader(t, s)

	f := func(p string, ips string, wantCode int) {
		t.Helper()
		code, body := postForm(t, s, p, url.Values{"ips": {ips}})
		if code != wantCode {
			t.Fatalf("POST %s ips=%q: status %d, want %d: %s", p, ips, code, wantCode, body)
		}
	}
	f("/api/clientManager/clientOff", "10.0.0.1,bad", http.StatusBadRequest)
	f("/api/clientManager/clientOff", "", http.StatusBadRequest)
	if ips := queryClientOff(t, s); len(ips) != 0 {
		t.Fatalf("a refused request changed the list: %q", ips)
	}
	f("/api/clientManager/clientOff", "10.0.0.2,10.0.0.1", http.StatusOK)
	f("/api/clientManager/clientOff", "10.0.0.1,10.0.0.3", http.StatusOK)
	if got, want := queryClientOff(t, s), []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}; !slices.Equal(got, want) {
		t.Fatalf("list %q, want %q", got, want)
	}
	f("/api/clientManager/clientOpen", "10.0.0.2,10.9.9.9", http.StatusOK)
	if got, want := queryClientOff(t, s), []string{"10.0.0.1", "10.0.0.3"}; !slices.Equal(got, want) {
		t.Fatalf("list %q, want %q", got, want)
	}
	// Not a form POST: the route does not match.
	if code := httpGet(t, s, "/api/clientManager/clientOff?ips=10.0.0.4", nil); code != http.StatusMethodNotAllowed {
		t.Fatalf("GET clientOff: status %d", code)
	}

	// Thousands at once.
	many := make([]string, 5000)
	for i := range many {
		many[i] = fmt.Sprintf("10.1.%d.%d", i/250, i%250)
	}
	f("/api/clientManager/clientOff", strings.Join(many, ","), http.StatusOK)
	if n := len(queryClientOff(t, s)); n != 5002 {
		t.Fatalf("%d IPs on the list, want 5002", n)
	}
	// Past MaxClientOff nothing is added, and the answer says why.
	more := make([]string, MaxClientOff-5002+1)
	for i := range more {
		more[i] = fmt.Sprintf("10.2.%d.%d", i/250, i%250)
	}
	code, body := postForm(t, s, "/api/clientManager/clientOff", url.Values{"ips": {strings.Join(more, ",")}})
	if code != http.StatusConflict || !strings.Contains(body, "limit 10000") {
		t.Fatalf("client-off past the limit: status %d: %s", code, body)
	}
	if n := len(queryClientOff(t, s)); n != 5002 {
		t.Fatalf("%d IPs on the list after a refused request, want 5002", n)
	}

	// A node gets the list in its heartbeat reply, and again only when it changes.
	hb := &proto.NodeHeartbeat{Role: proto.RoleSession, Node: proto.NodeInfo{ID: "s/1", RPCAddr: "127.0.0.1:1"}}
	reply, ok := s.heartbeat(hb).(*proto.NodeHeartbeatReply)
	if !ok || reply.ConfigEpoch == 0 || len(reply.ClientOff) != 5002 {
		t.Fatalf("first heartbeat reply carries no client-off list: %+v", reply)
	}
	hb.ConfigEpoch = reply.ConfigEpoch
	if again := s.heartbeat(hb).(*proto.NodeHeartbeatReply); again.ConfigEpoch != 0 || again.ClientOff != nil {
		t.Fatalf("config sent again to a node holding it: epoch %d", again.ConfigEpoch)
	}
	f("/api/clientManager/clientOpen", strings.Join(many, ","), http.StatusOK)
	next := s.heartbeat(hb).(*proto.NodeHeartbeatReply)
	if next.ConfigEpoch == 0 || next.ConfigEpoch == hb.ConfigEpoch || !slices.Equal(next.ClientOff, []string{"10.0.0.1", "10.0.0.3"}) {
		t.Fatalf("changed config not sent: epoch %d, list %q", next.ConfigEpoch, next.ClientOff)
	}

	// The list survives a restart on the same database file, and the new
	// leadership hands it out under a new epoch.
	stopMeta(t, s)
	s2 := startMeta(t, openStore(t, path))
	waitLeader(t, s2)
	if got, want := queryClientOff(t, s2), []string{"10.0.0.1", "10.0.0.3"}; !slices.Equal(got, want) {
		t.Fatalf("after restart: list %q, want %q", got, want)
	}
	hb.ConfigEpoch = next.ConfigEpoch
	waitFor(t, "the restarted leader to send its config", func() bool {
		r, ok := s2.heartbeat(hb).(*proto.NodeHeartbeatReply)
		return ok && r.ConfigEpoch != 0 && r.ConfigEpoch != hb.ConfigEpoch && len(r.ClientOff) == 2
	})
}

func TestClientOffRefusedByFollower(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "meta.db"))
	leader := startMeta(t, st)
	waitLeader(t, leader)
	follower := startMeta(t, st)
	code, body := postForm(t, follower, "/api/clientManager/clientOff", url.Values{"ips": {"10.0.0.1"}})
	if code != http.StatusServiceUnavailable {
		t.Fatalf("follower: status %d, want 503: %s", code, body)
	}
	if code, body := postForm(t, leader, "/api/clientManager/clientOff", url.Values{"ips": {"10.0.0.1"}}); code != http.StatusOK {
		t.Fatalf("leader: status %d: %s", code, body)
	}
	// Any meta node answers the query, from the store.
	if got := queryClientOff(t, follower); !slices.Equal(got, []string{"10.0.0.1"}) {
		t.Fatalf("follower query: %q", got)
	}
}
