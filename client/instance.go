package client

import (
	"slices"
	"strconv"
	"strings"
)

// WeightAttr is the publisher attribute that carries an instance's weight
// for load balancing: a decimal integer in [1, MaxWeight]
// (Publication.Attrs{"weight": "20"}).
const WeightAttr = "weight"

// MaxWeight bounds a weight; higher values are invalid.
const MaxWeight = 1_000_000

// Instance is one publisher of a subscribed list: what it published and
// its attributes, the caller's to keep or change.
type Instance struct {
	RegisterID string
	Zone       string // "" when the publisher registered none
	Version    uint64 // the publisher's version; attributes change only with it
	// Data is what the publisher published, in its order, usually one
	// address ("10.0.0.1:12200").
	Data []string
	// Attrs are the publisher's attributes (Publication.Attrs), nil when
	// it has none or the session is older than the attributes in pushes.
	Attrs map[string]string
	// DataCenter is the data center the publisher registered in, for a
	// ScopeGlobal subscriber whose session names them; "" otherwise.
	DataCenter string
}

// Weight returns the instance's weight from its WeightAttr attribute: 1
// when it has none, or one that is not an integer in [1, MaxWeight].
func (in Instance) Weight() int {
	w, ok := ParseWeight(in.Attrs[WeightAttr])
	if !ok {
		return 1
	}
	return w
}

// ParseWeight parses a weight, reporting whether s is an integer in
// [1, MaxWeight].
func ParseWeight(s string) (int, bool) {
	w, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || w < 1 || w > MaxWeight {
		return 0, false
	}
	return w, true
}

// Instances returns the publishers of the list, sorted by zone then
// register id; a new slice on every call. An Update made by hand (in a
// test) has no publishers, only Zones: it returns one Instance per data
// string of Zones, with no register id nor attributes.
func (u Update) Instances() []Instance {
	if u.list != nil {
		return u.list.instances()
	}
	var out []Instance
	for z, data := range u.Zones {
		for _, d := range data {
			out = append(out, Instance{Zone: z, Data: []string{d}})
		}
	}
	slices.SortFunc(out, func(a, b Instance) int {
		if c := strings.Compare(a.Zone, b.Zone); c != 0 {
			return c
		}
		return strings.Compare(a.Data[0], b.Data[0])
	})
	return out
}

// instances renders the list's publishers, sorted by zone then register
// id: not kept with the list, whose records hold the same for less.
func (l *pubList) instances() []Instance {
	out := make([]Instance, l.count())
	arena := make([]string, 0, l.count()) // one data string each, usually: grows if not
	for i := range out {
		pp := readRecordTo(l.rec(i), &arena)
		in := Instance{RegisterID: pp.RegisterID, Zone: pp.Zone, Version: pp.Version, Data: pp.Data, DataCenter: pp.DataCenter}
		if len(pp.Attrs) > 0 {
			in.Attrs = make(map[string]string, len(pp.Attrs))
			for _, a := range pp.Attrs {
				in.Attrs[a.Key] = a.Value
			}
		}
		out[i] = in
	}
	// The records are by register id already; often in one zone.
	byZone := func(a, b Instance) int { return strings.Compare(a.Zone, b.Zone) }
	if !slices.IsSortedFunc(out, byZone) {
		slices.SortStableFunc(out, byZone)
	}
	return out
}
