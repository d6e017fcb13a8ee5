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

// decode builds the publishers of l for encoding, every zone's, in one
// pass over each record; strings alias the records'.
func (l List) decode() []proto.PushPublisher {
	out := make([]proto.PushPublisher, len(l))
	data := make([]string, 0, len(l)) // one address a publisher, usually
	var attrs []proto.Attr
	for i, r := range l {
		data, attrs = r.Decode(&out[i], data, attrs)
	}
	return out
}

// list is filterZone, with this data center's publishers named in a list
// for global subscribers (a copy: the built list is shared).
func (e *Engine) list(pubs []proto.PushPublisher, zone string) []proto.PushPublisher {
	out := filterZone(pubs, zone)
	if zone != proto.GlobalZone {
		return out
	}
	named := make([]proto.PushPublisher, len(out))
	for i, p := range out {
		if p.DataCenter == "" {
			p.DataCenter = e.cfg.DataCenter
		}
		named[i] = p
	}
	return named
}
