package grpcresolver

import (
	"net/url"
	"slices"
	"strings"

	"google.golang.org/grpc/attributes"
	"google.golang.org/grpc/resolver"

	"github.com/roster-registry/roster/client"
)

// infoKey keys an address's roster attributes.
type infoKey struct{}

// info is what roster knows of an address besides host:port. It is a
// comparable struct because grpc compares attribute values with == when
// deciding whether an address changed.
type info struct {
	zone  string
	query string
}

// Params returns the query parameters published with addr's data string
// ("weight=100" of "10.0.0.1:12200?weight=100"), empty when it had none or
// addr did not come from this package.
func Params(addr resolver.Address) url.Values {
	in, _ := addr.Attributes.Value(infoKey{}).(info)
	v, _ := url.ParseQuery(in.query)
	return v
}

// Zone returns the zone addr was published in, "" when unknown.
func Zone(addr resolver.Address) string {
	in, _ := addr.Attributes.Value(infoKey{}).(info)
	return in.zone
}

// splitData splits a published data string into the address to dial and
// its query: "grpc://10.0.0.1:12200/?weight=100" gives "10.0.0.1:12200" and
// "weight=100". A leading scheme and a trailing path are dropped: grpc dials
// host:port.
func splitData(s string) (addr, query string) {
	s = strings.TrimSpace(s)
	s, query, _ = strings.Cut(s, "?")
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s = rest
	}
	s, _, _ = strings.Cut(s, "/")
	return s, query
}

// state turns a push into the channel's state: one endpoint per distinct
// address, in the update's order (sorted by data string), so the first
// publisher of an address names its attributes.
func state(u client.Update) resolver.State {
	zones := make([]string, 0, len(u.Zones))
	for z := range u.Zones {
		zones = append(zones, z)
	}
	// Zones in a fixed order, so equal pushes give equal states.
	slices.Sort(zones)
	var st resolver.State
	seen := make(map[string]struct{})
	for _, z := range zones {
		for _, d := range u.Zones[z] {
			addr, query := splitData(d)
			if addr == "" {
				continue
			}
			if _, dup := seen[addr]; dup {
				continue
			}
			seen[addr] = struct{}{}
			attrs := attributes.New(infoKey{}, info{zone: z, query: query})
			a := resolver.Address{Addr: addr, Attributes: attrs}
			st.Addresses = append(st.Addresses, a)
			st.Endpoints = append(st.Endpoints, resolver.Endpoint{Addresses: []resolver.Address{a}, Attributes: attrs})
		}
	}
	return st
}
