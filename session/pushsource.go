package session

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/roster-registry/roster/internal/pubrec"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/push"
)

// datumSource is the push engine's Source: a datum fetched from its slot
// leader, its publishers as pushed sharing the strings of the registry's
// own publishers, application datums handed to the app state (it merges
// their instances into interfaces).
type datumSource struct {
	fetch  func(ctx context.Context, id string, into *proto.Datum, pooled bool) (body []byte, err error) // Server.fetchDatum
	reg    *registry
	apps   *appState
	config *configCopy // answers the watched config's ids (watch.go)
}

func (d datumSource) Fetch(ctx context.Context, id string, cached proto.DatumVersion, own push.List) (push.Datum, error) {
	if proto.IsConfigID(id) {
		return d.config.datum(id)
	}
	app := strings.HasSuffix(id, "#@#"+proto.AppGroup)
	var raw *proto.Datum
	if app {
		raw = new(proto.Datum) // kept whole by the app state
	} else {
		// Nothing of the reply is kept (pushList, appendRemote): its
		// decoded form is reused from fetch to fetch.
		raw = fetchedDatums.Get().(*proto.Datum)
	}
	body, err := d.fetch(ctx, id, raw, !app)
	if !app {
		// Nor of its body, which raw points into: once raw is reset, a
		// later reply is copied into it (a storm fetches thousands a
		// second, 10+ KiB each).
		defer func() {
			releaseFetched(raw)
			netio.ReleaseBody(body)
		}()
	}
	if err != nil {
		return push.Datum{}, err
	}
	if app {
		d.apps.fetchedApp(id, raw)
	}
	out := push.Datum{Version: raw.Version, Hash: raw.Hash(), Settle: time.Duration(raw.SettleMs) * time.Millisecond}
	if cached.Version == 0 || out.Version != cached.Version || out.Hash != cached.Hash {
		// A refetch that finds what is cached (a subscriber arriving
		// during a fetch asks for another round) builds no list.
		out.Publishers = d.reg.pushList(raw, own)
		out.Publishers = appendRemote(out.Publishers, raw.Remote)
	}
	return out, nil
}

// fetchedDatums holds decoded fetch replies for reuse: a storm decodes
// thousands a second, each garbage once its push list is built.
var fetchedDatums = sync.Pool{New: func() any { return new(proto.Datum) }}

// maxPooledPublishers bounds what a pooled reply keeps: one huge datum's
// publishers are left to the collector rather than held for later fetches.
const maxPooledPublishers = 4096

// releaseFetched clears d, so that it keeps no reply's body alive (its
// strings point into it), and pools it unless it grew too large.
func releaseFetched(d *proto.Datum) {
	if cap(d.Publishers) > maxPooledPublishers {
		return
	}
	d.Reset()
	fetchedDatums.Put(d)
}

// appendRemote appends the publishers imported from linked data centers,
// each named, copied: nothing of the reply's frame is kept.
func appendRemote(out push.List, remote []proto.DCPublishers) push.List {
	for _, seg := range remote {
		out = append(out, push.Refs(pubrec.MakeAll(len(seg.Publishers), func(i int) (*proto.Publisher, string) {
			return &seg.Publishers[i], seg.DataCenter
		}))...)
	}
	return out
}

// pushList returns d's publishers as pushed: the registry's own records
// of the publishers this session holds at the same version, the records of
// prev (the list fetched last) for the others unchanged since, and copies
// of the rest (made together, pubrec.MakeAll). Nothing of the decoded reply
// is kept. In a storm a datum is fetched again and again with a few of its
// publishers changed each time: copying all of the others each time was
// the largest part of what a session allocated.
func (r *registry) pushList(d *proto.Datum, prev push.List) push.List {
	out := make(push.List, len(d.Publishers))
	var others []int // the publishers this session does not hold at that version
	r.mu.RLock()
	set := r.pubSet(d.DataInfoID) // once: every publisher of d is of its set
	for i := range d.Publishers {
		dp := &d.Publishers[i]
		rp, ok := set.get(dp.RegisterID)
		if !ok || rp.Version != dp.Version || rp.TS != dp.RegisterTimestamp {
			others = append(others, i)
			continue
		}
		out[i] = &rp.Rec
	}
	r.mu.RUnlock()
	others = reuseRecords(out, d.Publishers, others, prev)
	if len(others) > 0 {
		recs := pubrec.MakeAll(len(others), func(j int) (*proto.Publisher, string) { return &d.Publishers[others[j]], "" })
		for j, i := range others {
			out[i] = &recs[j]
		}
	}
	return out
}

// reuseRecords lists in out, for each publisher of pubs indexed by others,
// prev's record of the same publish (register id, version and register
// timestamp: what the registry's records are matched by), and returns the
// indexes left without one. Records of a linked data center's publishers
// are not this one's.
func reuseRecords(out push.List, pubs []proto.Publisher, others []int, prev push.List) []int {
	if len(others) == 0 || len(prev) == 0 {
		return others
	}
	byID := recIndexes.Get().(map[string]*pubrec.Rec)
	defer func() {
		if len(byID) <= maxPooledPublishers {
			clear(byID)
			recIndexes.Put(byID)
		}
	}()
	for _, rec := range prev {
		byID[rec.RegisterID()] = rec
	}
	rest := others[:0]
	for _, i := range others {
		p := &pubs[i]
		if rec, ok := byID[p.RegisterID]; ok && rec.Version == p.Version && rec.TS == p.RegisterTimestamp && rec.DataCenter() == "" {
			out[i] = rec
			continue
		}
		rest = append(rest, i)
	}
	return rest
}

// recIndexes holds the maps reuseRecords indexes a list by, cleared: a
// storm fetches thousands of datums a second.
var recIndexes = sync.Pool{New: func() any { return make(map[string]*pubrec.Rec) }}
