package kratosregistry

import (
	"net/url"
	"slices"
	"strings"

	"github.com/go-kratos/kratos/v2/registry"

	"github.com/roster-registry/roster/client"
)

// Query keys that carry a ServiceInstance's fields beside an endpoint's own
// parameters. Prefixed so they never meet a kratos endpoint parameter
// (isSecure, weight).
const (
	keyID       = "kratos.id"
	keyVersion  = "kratos.version"
	keyMetaPref = "kratos.md."
)

// encode returns the data strings publishing si: each endpoint with si's
// id, version and metadata added to its query.
func encode(si *registry.ServiceInstance) []string {
	out := make([]string, 0, len(si.Endpoints))
	for _, ep := range si.Endpoints {
		base, raw, _ := strings.Cut(ep, "?")
		// A malformed pair is dropped: the rest still round-trips.
		q, _ := url.ParseQuery(raw)
		q.Set(keyID, si.ID)
		if si.Version != "" {
			q.Set(keyVersion, si.Version)
		}
		for k, v := range si.Metadata {
			q.Set(keyMetaPref+k, v)
		}
		out = append(out, base+"?"+q.Encode())
	}
	return out
}

// decode rebuilds the instances of service from a push. Data strings that
// carry no instance id (published by another kind of client) each become
// an instance of their own, named by the string.
func decode(service string, u client.Update) []*registry.ServiceInstance {
	zones := make([]string, 0, len(u.Zones))
	for z := range u.Zones {
		zones = append(zones, z)
	}
	slices.Sort(zones)
	var out []*registry.ServiceInstance
	byID := make(map[string]*registry.ServiceInstance)
	for _, z := range zones {
		for _, d := range u.Zones[z] {
			ep, id, version, md := decodeOne(d)
			si := byID[id]
			if si == nil {
				si = &registry.ServiceInstance{ID: id, Name: service, Version: version, Metadata: md}
				byID[id] = si
				out = append(out, si)
			}
			if !slices.Contains(si.Endpoints, ep) {
				si.Endpoints = append(si.Endpoints, ep)
			}
		}
	}
	return out
}

// decodeOne splits one data string into the endpoint and the instance's
// fields.
func decodeOne(d string) (endpoint, id, version string, md map[string]string) {
	md = make(map[string]string)
	base, raw, _ := strings.Cut(d, "?")
	q, _ := url.ParseQuery(raw)
	if !q.Has(keyID) {
		return d, d, "", md
	}
	id, version = q.Get(keyID), q.Get(keyVersion)
	for k := range q {
		switch {
		case k == keyID || k == keyVersion:
		case strings.HasPrefix(k, keyMetaPref):
			md[strings.TrimPrefix(k, keyMetaPref)] = q.Get(k)
		default:
			continue
		}
		delete(q, k)
	}
	if len(q) == 0 {
		return base, id, version, md
	}
	return base + "?" + q.Encode(), id, version, md
}
