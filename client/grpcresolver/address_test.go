package grpcresolver

import (
	"testing"

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
	st := state(u)
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
	if empty := state(client.Update{}); len(empty.Addresses) != 0 || len(empty.Endpoints) != 0 {
		t.Errorf("state of an empty update = %+v", empty)
	}
}
