package grpcresolver

import (
	"maps"
	"net/url"
	"strings"

	"google.golang.org/grpc/attributes"
	"google.golang.org/grpc/resolver"

	"github.com/roster-registry/roster/client"
)

// infoKey keys an address's roster attributes.
type infoKey struct{}

// info is what roster knows of an address besides host:port. grpc
// compares attribute values with Equal when deciding whether an address
// changed (an address whose attributes change is a new address to the
// balancer: they change rarely).
type info struct {
	zone   string
	query  string
	weight int               // 0: none published
	meta   map[string]string // the publisher's attributes, shared with the client's list
}

func (a info) Equal(o any) bool {
	b, ok := o.(info)
	return ok && a.zone == b.zone && a.query == b.query && a.weight == b.weight && maps.Equal(a.meta, b.meta)
}

// Metadata returns the attributes published with addr's instance
// (client.Publication.Attrs): nil when it had none or addr did not come
// from this package. The map is shared: read it, do not change it.
func Metadata(addr resolver.Address) map[string]string {
	in, _ := addr.Attributes.Value(infoKey{}).(info)
	return in.meta
}

// Weight returns addr's weight: its instance's client.WeightAttr
// attribute, else the weight query parameter of its data string
// ("10.0.0.1:12200?weight=100"); 1 when neither is a valid weight
// (client.ParseWeight).
func Weight(addr resolver.Address) int {
	in, _ := addr.Attributes.Value(infoKey{}).(info)
	return max(in.weight, 1)
}

// weightOf returns an instance's published weight, 0 when none is valid.
func weightOf(in client.Instance, query string) int {
	if w, ok := client.ParseWeight(in.Attrs[client.WeightAttr]); ok {
		return w
	}
	if query == "" {
		return 0
	}
	q, _ := url.ParseQuery(query)
	w, _ := client.ParseWeight(q.Get(client.WeightAttr))
	return w
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
// address, in the order of the update's instances (sorted by zone and
// register id, so equal pushes give equal states), so the first publisher
// of an address names its attributes. weighted reports whether an address
// has a published weight.
func state(u client.Update) (st resolver.State, weighted bool) {
	seen := make(map[string]struct{})
	for _, in := range u.Instances() {
		for _, d := range in.Data {
			addr, query := splitData(d)
			if addr == "" {
				continue
			}
			if _, dup := seen[addr]; dup {
				continue
			}
			seen[addr] = struct{}{}
			inf := info{zone: in.Zone, query: query, weight: weightOf(in, query), meta: in.Attrs}
			weighted = weighted || inf.weight != 0
			at := attributes.New(infoKey{}, inf)
			a := resolver.Address{Addr: addr, Attributes: at}
			st.Addresses = append(st.Addresses, a)
			st.Endpoints = append(st.Endpoints, resolver.Endpoint{Addresses: []resolver.Address{a}, Attributes: at})
		}
	}
	return st, weighted
}
