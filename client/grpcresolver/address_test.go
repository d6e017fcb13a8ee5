package grpcresolver

import (
	"strings"
	"testing"

	"google.golang.org/grpc/attributes"
	"google.golang.org/grpc/balancer"
	"google.golang.org/grpc/balancer/base"
	"google.golang.org/grpc/resolver"

	"github.com/roster-registry/roster/client"
)

func TestSplitData(t *testing.T) {
	f := func(in, wantAddr, wantQuery string) {
		t.Helper()
		addr, query := splitData(in)
		if addr != wantAddr || query != wantQuery {
			t.Errorf("splitData(%q) = %q, %q; want %q, %q", in, addr, query, wantAddr, wantQuery)
		}
	}
	f("10.0.0.1:12200", "10.0.0.1:12200", "")
	f("10.0.0.1:12200?weight=100", "10.0.0.1:12200", "weight=100")
	f("grpc://10.0.0.1:12200/?weight=100&x=y", "10.0.0.1:12200", "weight=100&x=y")
	f(" [::1]:80 ", "[::1]:80", "")
	f("?weight=1", "", "weight=1")
}

func TestState(t *testing.T) {
	u := client.Update{Zones: map[string][]string{
		"z1": {"10.0.0.1:1?weight=100", "10.0.0.2:1"},
		"z2": {"10.0.0.1:1?weight=5", "", "10.0.0.3:1"},
	}}
	st, weighted := state(u)
	if !weighted {
		t.Error("a weight query parameter is no weight")
	}
	if len(st.Addresses) != 3 || len(st.Endpoints) != 3 {
		t.Fatalf("state = %+v, want 3 distinct addresses", st)
	}
	a := st.Endpoints[0].Addresses[0]
	if a.Addr != "10.0.0.1:1" || Params(a).Get("weight") != "100" || Zone(a) != "z1" {
		t.Errorf("first address = %s weight=%q zone=%q", a.Addr, Params(a).Get("weight"), Zone(a))
	}
	if st.Addresses[2].Addr != "10.0.0.3:1" || Zone(st.Addresses[2]) != "z2" {
		t.Errorf("third address = %+v", st.Addresses[2])
	}
	if w := Weight(a); w != 100 {
		t.Errorf("weight of the first address = %d", w)
	}
	if w := Weight(st.Addresses[1]); w != 1 {
		t.Errorf("weight of an address without one = %d", w)
	}
	if empty, _ := state(client.Update{}); len(empty.Addresses) != 0 || len(empty.Endpoints) != 0 {
		t.Errorf("state of an empty update = %+v", empty)
	}
}

// TestSmoothWeightedPicks: over a round of total picks each server is
// picked its weight times, spread out (never twice in a row here).
func TestSmoothWeightedPicks(t *testing.T) {
	pbi := base.PickerBuildInfo{ReadySCs: map[balancer.SubConn]base.SubConnInfo{}}
	names := map[balancer.SubConn]string{}
	for _, s := range []struct {
		addr   string
		weight int
	}{{"a:1", 1}, {"b:1", 2}, {"c:1", 3}} {
		sc := &fakeSubConn{name: s.addr}
		names[sc] = s.addr
		at := attributes.New(infoKey{}, info{weight: s.weight})
		pbi.ReadySCs[sc] = base.SubConnInfo{Address: resolver.Address{Addr: s.addr, Attributes: at}}
	}
	p := wrrBuilder{}.Build(pbi)
	count := map[string]int{}
	var seq []string
	for range 60 {
		r, err := p.Pick(balancer.PickInfo{})
		if err != nil {
			t.Fatal(err)
		}
		count[names[r.SubConn]]++
		seq = append(seq, names[r.SubConn])
	}
	if count["a:1"] != 10 || count["b:1"] != 20 || count["c:1"] != 30 {
		t.Fatalf("picks %v, want 10/20/30", count)
	}
	if got := strings.Join(seq[:6], " "); got != "c:1 b:1 a:1 c:1 b:1 c:1" {
		t.Fatalf("first round %s, want smooth", got)
	}
	if _, err := (wrrBuilder{}).Build(base.PickerBuildInfo{}).Pick(balancer.PickInfo{}); err != balancer.ErrNoSubConnAvailable {
		t.Fatalf("no ready server: %v", err)
	}
}

type fakeSubConn struct {
	balancer.SubConn
	name string
}

func TestStateCarriesAttrs(t *testing.T) {
	u := client.Update{Zones: map[string][]string{"z": {"10.0.0.1:1"}}}
	if _, weighted := state(u); weighted {
		t.Fatal("weighted without a weight")
	}
	if md := Metadata(resolver.Address{}); md != nil {
		t.Fatalf("metadata of a foreign address: %v", md)
	}
	a, b := info{meta: map[string]string{"a": "1"}}, info{meta: map[string]string{"a": "1"}}
	if !a.Equal(b) || a.Equal(info{meta: map[string]string{"a": "2"}}) || a.Equal(info{}) || a.Equal(nil) {
		t.Fatal("info.Equal")
	}
}
