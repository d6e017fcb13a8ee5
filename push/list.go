package push

import (
	"github.com/roster-registry/roster/internal/pubrec"
	"github.com/roster-registry/roster/proto"
)

// List is a datum's publishers as the engine keeps them, 8 bytes each:
// references to compact records (internal/pubrec). A session lists the
// records of its registry for the publishers it holds, so a cached list
// costs no copy of them; the others are made for the list (ListOf,
// pubrec.MakeAll). A listed record is never changed (its version, zone and
// blob; the register timestamp, which a list does not read, may be).
// proto.PushPublishers are built from a list only while a frame is
// encoded (Engine.list): a datum's lists and their history stay cached
// while its frames are dropped once every subscriber acknowledged.
type List []*pubrec.Rec

// ListOf makes a list of ps, every string copied.
func ListOf(ps []proto.PushPublisher) List {
	var p proto.Publisher
	recs := pubrec.MakeAll(len(ps), func(i int) (*proto.Publisher, string) {
		pp := &ps[i]
		p = proto.Publisher{RegisterID: pp.RegisterID, Zone: pp.Zone, Version: pp.Version, Data: pp.Data, Attrs: pp.Attrs}
		return &p, pp.DataCenter
	})
	return Refs(recs)
}

// Refs lists every record of recs.
func Refs(recs []pubrec.Rec) List {
	out := make(List, len(recs))
	for i := range recs {
		out[i] = &recs[i]
	}
	return out
}

// hash is proto.ListHash of l.
func (l List) hash() uint64 {
	var h uint64
	for _, r := range l {
		h ^= r.Hash()
	}
	return h
}

// list returns the publishers of pubs a push of zone filter zone carries
// (filterZone), built for encoding; for proto.GlobalZone this data
// center's are named. Strings alias the records'.
func (e *Engine) list(pubs List, zone string) []proto.PushPublisher {
	out := make([]proto.PushPublisher, 0, len(pubs))
	ndata := 0
	for _, r := range pubs {
		ndata += r.DataCount()
	}
	data := make([]string, 0, ndata)
	var attrs []proto.Attr
	for _, r := range pubs {
		z, dc := r.Zone(), r.DataCenter()
		switch {
		case zone == proto.GlobalZone:
			if dc == "" {
				dc = e.cfg.DataCenter
			}
		case dc != "" || zone != "" && z != zone:
			continue
		}
		p := proto.PushPublisher{RegisterID: r.RegisterID(), Zone: z, Version: r.Version, DataCenter: dc}
		start := len(data)
		data = r.AppendData(data)
		p.Data = data[start:len(data):len(data)]
		start = len(attrs)
		attrs = r.AppendAttrs(attrs)
		if len(attrs) > start {
			p.Attrs = attrs[start:len(attrs):len(attrs)]
		}
		out = append(out, p)
	}
	return out
}
