package kratosregistry

import (
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/go-kratos/kratos/v2/registry"

	"github.com/roster-registry/roster/client"
)

// Attribute keys that carry a ServiceInstance's id and version beside its
// metadata, which is published as the publisher's attributes as is (so a
// "weight" in the metadata is the instance's weight to roster's gRPC
// resolver too). Metadata may not use them (ErrReservedKey).
const (
	AttrID      = "kratos.id"
	AttrVersion = "kratos.version"
)

// Query keys of the data strings of adapters before attributes were
// pushed (they put the instance's fields in each endpoint's query); still
// decoded, so that instances registered by them are found.
const (
	keyID       = AttrID
	keyVersion  = AttrVersion
	keyMetaPref = "kratos.md."
)

// encode returns what publishes si: its endpoints as data, its id,
// version and metadata as attributes.
func encode(si *registry.ServiceInstance) (data []string, attrs map[string]string, err error) {
	for _, k := range []string{AttrID, AttrVersion} {
		if _, ok := si.Metadata[k]; ok {
			return nil, nil, ErrReservedKey
		}
	}
	attrs = make(map[string]string, len(si.Metadata)+2)
	maps.Copy(attrs, si.Metadata)
	attrs[AttrID] = si.ID
	if si.Version != "" {
		attrs[AttrVersion] = si.Version
	}
	return slices.Clone(si.Endpoints), attrs, nil
}

// decode rebuilds the instances of service from a push, in the order of
// its instances. A publisher with an AttrID attribute is one instance;
// data strings of other publishers that carry an instance id in their
// query (older adapters) are grouped by it, and the others (published by
// another kind of client) each become an instance of their own, named by
// the string.
func decode(service string, u client.Update) []*registry.ServiceInstance {
	var out []*registry.ServiceInstance
	byID := make(map[string]*registry.ServiceInstance)
	add := func(id, version string, md map[string]string, ep string) {
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
	for _, in := range u.Instances() {
		if id, ok := in.Attrs[AttrID]; ok {
			md := maps.Clone(in.Attrs) // the caller's: in.Attrs is shared
			delete(md, AttrID)
			delete(md, AttrVersion)
			for _, ep := range in.Data {
				add(id, in.Attrs[AttrVersion], md, ep)
			}
			continue
		}
		for _, d := range in.Data {
			ep, id, version, md := decodeOne(d)
			add(id, version, md, ep)
		}
	}
	return out
}

// decodeOne splits one data string of an older adapter into the endpoint
// and the instance's fields.
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
