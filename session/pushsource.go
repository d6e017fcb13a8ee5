package session

import (
	"context"
	"strings"
	"time"

	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/push"
)

// datumSource is the push engine's Source: a datum fetched from its slot
// leader, its publishers as pushed sharing the strings of the registry's
// own publishers, application datums handed to the app state (it merges
// their instances into interfaces).
type datumSource struct {
	fetch  func(ctx context.Context, id string) (*proto.Datum, error)
	reg    *registry
	apps   *appState
	config *configCopy // answers the watched config's ids (watch.go)
}

func (d datumSource) Fetch(ctx context.Context, id string, cached proto.DatumVersion) (push.Datum, error) {
	if proto.IsConfigID(id) {
		return d.config.datum(id)
	}
	raw, err := d.fetch(ctx, id)
	if err != nil {
		return push.Datum{}, err
	}
	if strings.HasSuffix(id, "#@#"+proto.AppGroup) {
		d.apps.fetchedApp(id, raw)
	}
	out := push.Datum{Version: raw.Version, Hash: raw.Hash(), Settle: time.Duration(raw.SettleMs) * time.Millisecond}
	if cached.Version == 0 || out.Version != cached.Version || out.Hash != cached.Hash {
		// A refetch that finds what is cached (a subscriber arriving
		// during a fetch asks for another round) builds no list.
		out.Publishers = d.reg.pushPublishers(raw)
		out.Publishers = appendRemote(out.Publishers, raw.Remote)
	}
	return out, nil
}

// appendRemote appends the publishers imported from linked data centers,
// each named, copied: nothing of the reply's frame is kept.
func appendRemote(out []proto.PushPublisher, remote []proto.DCPublishers) []proto.PushPublisher {
	for _, seg := range remote {
		dc := strings.Clone(seg.DataCenter)
		for i := range seg.Publishers {
			p := &seg.Publishers[i]
			pp := proto.PushPublisher{RegisterID: strings.Clone(p.RegisterID), Zone: strings.Clone(p.Zone), Version: p.Version, DataCenter: dc}
			if len(p.Data) > 0 {
				pp.Data = make([]string, len(p.Data))
				for j, s := range p.Data {
					pp.Data[j] = strings.Clone(s)
				}
			}
			if len(p.Attrs) > 0 {
				pp.Attrs = make([]proto.Attr, len(p.Attrs))
				for j, a := range p.Attrs {
					pp.Attrs[j] = proto.Attr{Key: strings.Clone(a.Key), Value: strings.Clone(a.Value)}
				}
			}
			out = append(out, pp)
		}
	}
	return out
}

// pushPublishers returns d's publishers as pushed. The decoded reply also
// holds what pushes do not carry (data info ids, client IPs): nothing of
// it is kept. The strings of a publisher this session holds at the same
// version (data and attributes) are its registry's; the others are copied
// into one string. The data and the attributes of all publishers each
// share one backing array; a publisher without attributes has nil.
func (r *registry) pushPublishers(d *proto.Datum) []proto.PushPublisher {
	out := make([]proto.PushPublisher, len(d.Publishers))
	ndata, nattrs := 0, 0
	for i := range d.Publishers {
		ndata += len(d.Publishers[i].Data)
		nattrs += len(d.Publishers[i].Attrs)
	}
	data := make([]string, 0, ndata)
	var attrs []proto.Attr
	if nattrs > 0 {
		attrs = make([]proto.Attr, 0, nattrs)
	}
	// attrsFrom caps the attributes appended from start, nil when none.
	attrsFrom := func(start int) []proto.Attr {
		if len(attrs) == start {
			return nil
		}
		return attrs[start:len(attrs):len(attrs)]
	}
	// local[i]: publisher i is taken from the registry.
	local := make([]bool, len(d.Publishers))
	n := 0
	r.mu.RLock()
	for i := range d.Publishers {
		dp := &d.Publishers[i]
		rp, ok := r.get(regKey{d.DataInfoID, dp.RegisterID})
		if !ok || rp.Version != dp.Version || rp.TS != dp.RegisterTimestamp {
			n += len(dp.RegisterID) + len(dp.Zone)
			for _, s := range dp.Data {
				n += len(s)
			}
			for _, a := range dp.Attrs {
				n += len(a.Key) + len(a.Value)
			}
			continue
		}
		local[i] = true
		out[i] = proto.PushPublisher{RegisterID: rp.RegisterID(), Zone: rp.Zone(), Version: rp.Version}
		start := len(data)
		data = rp.AppendData(data)
		out[i].Data = data[start:len(data):len(data)]
		start = len(attrs)
		attrs = rp.AppendAttrs(attrs)
		out[i].Attrs = attrsFrom(start)
	}
	r.mu.RUnlock()
	if n == 0 {
		return out
	}
	var b strings.Builder
	b.Grow(n)
	for i := range d.Publishers {
		if !local[i] {
			dp := &d.Publishers[i]
			b.WriteString(dp.RegisterID)
			b.WriteString(dp.Zone)
			for _, s := range dp.Data {
				b.WriteString(s)
			}
			for _, a := range dp.Attrs {
				b.WriteString(a.Key)
				b.WriteString(a.Value)
			}
		}
	}
	all := b.String()
	take := func(l int) string {
		s := all[:l]
		all = all[l:]
		return s
	}
	for i := range d.Publishers {
		if local[i] {
			continue
		}
		dp := &d.Publishers[i]
		out[i] = proto.PushPublisher{RegisterID: take(len(dp.RegisterID)), Zone: take(len(dp.Zone)), Version: dp.Version}
		start := len(data)
		for _, s := range dp.Data {
			data = append(data, take(len(s)))
		}
		out[i].Data = data[start:len(data):len(data)]
		start = len(attrs)
		for _, a := range dp.Attrs {
			attrs = append(attrs, proto.Attr{Key: take(len(a.Key)), Value: take(len(a.Value))})
		}
		out[i].Attrs = attrsFrom(start)
	}
	return out
}
