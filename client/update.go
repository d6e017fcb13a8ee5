package client

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/roster-registry/roster/proto"
)

// Update is the state of one subscribed service as a handler sees it.
type Update struct {
	DataInfoID string
	// Version is the registry's version of the list; it only grows, except
	// after a Cached update (the registry may have restarted since).
	Version uint64
	// Zones maps a publisher's zone to the data (addresses) published in it,
	// sorted. A publisher that registered no zone appears under "". The map
	// and its slices are the caller's.
	Zones map[string][]string
	// DataCenters maps a data center to the data published in it, sorted,
	// for a ScopeGlobal subscriber whose session names them (linked data
	// centers); nil otherwise. The map and its slices are the caller's.
	DataCenters map[string][]string
	// Cached: the list was read from Config.CacheDir, no session has
	// pushed one since; Version is the one it had when written.
	Cached bool
	// Temporary lists the temporary publications (Client.PublishTemporary)
	// this update carries, which Zones also holds; nil in an update of
	// the stored list. A handler is shown each temporary publication once,
	// with the list the subscriber held then (same Version), and the next
	// update no longer has it. Instances lists the stored publishers only.
	Temporary []Instance

	list *pubList // the publishers, for Instances; nil in an Update made by hand
}

// Addresses returns the data of every zone, sorted: the simple view of
// the list. Instances has each publisher with its attributes.
func (u Update) Addresses() []string {
	n := 0
	for _, a := range u.Zones {
		n += len(a)
	}
	out := make([]string, 0, n)
	for _, a := range u.Zones {
		out = append(out, a...)
	}
	slices.Sort(out)
	return out
}

// pubList is one immutable version of a subscriber's publisher list. It is
// replaced, never changed, so subscribers at the same list share one value,
// across every Client of the process (share.go), and readers need no lock
// once they hold the pointer.
//
// Its publishers are records (record.go) in one string, sorted by register
// id: a publisher costs its bytes and an offset. Views (Zones, Instances)
// are decoded from them, their strings substrings of recs.
type pubList struct {
	version uint64
	hash    uint64 // proto.ListHash of the publishers, kept incrementally
	sum     uint64 // XOR of the records' recSum (share.go)
	// received is when (UnixNano) the push that built the list arrived;
	// 0 for a list from Config.CacheDir (Metrics).
	received int64
	recs     string   // the records, one after another
	offs     []uint32 // where each record starts in recs

	// order holds where each data string of the list starts in recs, by
	// zone then data, as Update.Zones has them, and runs where each
	// zone's end; worked out on the first update for every holder of the
	// list (zoneData).
	orderOnce sync.Once
	order     []uint32
	runs      []zoneRun
	// decoded is the data strings in order, decoded from order: kept
	// weakly, so the hundred subscribers a service has in one process (a
	// load generator), whose updates of the list come close together,
	// copy them rather than each decoding the records, while an idle list
	// holds 4 bytes a string, not 16 (zoneData).
	decoded atomic.Pointer[weak.Pointer[decodedData]]

	// byDC is the data by data center (nil when no publisher names one),
	// worked out on the first update.
	dcOnce sync.Once
	byDC   map[string][]string
}

// count is the number of publishers.
func (l *pubList) count() int { return len(l.offs) }

// rec returns the i-th record.
func (l *pubList) rec(i int) string {
	end := len(l.recs)
	if i+1 < len(l.offs) {
		end = int(l.offs[i+1])
	}
	return l.recs[l.offs[i]:end]
}

// find returns the index of register id id's record.
func (l *pubList) find(id string) (int, bool) {
	return sort.Find(len(l.offs), func(i int) int { return strings.Compare(id, recID(l.rec(i))) })
}

// get returns the publisher of register id id.
func (l *pubList) get(id string) (proto.PushPublisher, bool) {
	i, ok := l.find(id)
	if !ok {
		return proto.PushPublisher{}, false
	}
	return readRecord(l.rec(i)), true
}

// all returns every publisher of the list, by register id.
func (l *pubList) all() []proto.PushPublisher {
	out := make([]proto.PushPublisher, len(l.offs))
	for i := range out {
		out[i] = readRecord(l.rec(i))
	}
	return out
}

// fullList builds the list carried by a full push; nil in the one case it
// cannot (records beyond 4 GiB).
func fullList(p *proto.Push) *pubList {
	l, _ := newList(p.Version, p.Publishers, time.Now().UnixNano())
	return l
}

// newList builds a list of pubs; of publishers with the same register
// id, the last counts (as a later put replaces an earlier one).
func newList(version uint64, pubs []proto.PushPublisher, received int64) (*pubList, bool) {
	order := make([]int32, len(pubs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return strings.Compare(pubs[a].RegisterID, pubs[b].RegisterID) })
	keep := order[:0]
	for i, o := range order {
		if i+1 < len(order) && pubs[order[i+1]].RegisterID == pubs[o].RegisterID {
			continue // a later one with the same id follows
		}
		keep = append(keep, o)
	}
	bytes := 0
	for _, o := range keep {
		bytes += recSize(&pubs[o])
	}
	b := newListBuilder(len(keep), bytes)
	for _, o := range keep {
		b.addPub(&pubs[o])
	}
	return b.list(version, received)
}

// edit is what a delta push does to one register id: the index of the
// record it replaces or removes (-1 if none), and the publisher it puts
// (nil for a removal).
type edit struct {
	id  string
	old int
	put *proto.PushPublisher
}

// deltaEdits returns what p does to l, by register id: the removals
// first, then the publishers, the last one of an id counting. It appends
// to dst[:0]: a caller passing an array of its own (deltaBuf) makes a
// small delta allocate nothing, where a map of the ids allocated on every
// push of a storm.
func (l *pubList) deltaEdits(p *proto.Push, dst []edit) []edit {
	all := dst[:0]
	for _, id := range p.Removed {
		all = append(all, edit{id: id})
	}
	for i := range p.Publishers {
		all = append(all, edit{id: p.Publishers[i].RegisterID, put: &p.Publishers[i]})
	}
	// Stable: the edits of one id stay in push order, the last counting.
	slices.SortStableFunc(all, func(a, b edit) int { return strings.Compare(a.id, b.id) })
	edits := all[:0] // in place: edit j is written after all[j] was read
	for i, e := range all {
		if i+1 < len(all) && all[i+1].id == e.id {
			continue // a later one with the same id follows
		}
		old, ok := l.find(e.id)
		if !ok {
			if e.put == nil {
				continue // removing what is not there
			}
			old = -1
		}
		e.old = old
		edits = append(edits, e)
	}
	return edits
}

// deltaBuf is the edits of a delta of up to 8 register ids, on the
// caller's stack (deltaEdits).
type deltaBuf [8]edit

// applyDelta returns l with a delta push applied, or false when the push
// does not start from l's version or the result does not match the push's
// count and hash.
func (l *pubList) applyDelta(p *proto.Push) (*pubList, bool) {
	if l == nil || l.version != p.BaseVersion {
		return nil, false
	}
	var buf deltaBuf
	edits := l.deltaEdits(p, buf[:0])
	n, bytes := l.count(), len(l.recs)
	for _, e := range edits {
		if e.old >= 0 {
			n--
			bytes -= len(l.rec(e.old))
		}
		if e.put != nil {
			n++
			bytes += recSize(e.put)
		}
	}
	// The records between edits are copied in runs, their hashes and sums
	// staying in l's: only what the delta touches is hashed.
	b := newListBuilder(n, bytes)
	b.hash, b.sum = l.hash, l.sum
	i := 0 // the next record of l to copy
	for _, e := range edits {
		at := e.old
		if at < 0 { // where e.id goes
			at = sort.Search(l.count(), func(j int) bool { return recID(l.rec(j)) >= e.id })
		}
		b.copyRun(l, i, at)
		i = at
		if e.old >= 0 {
			rec := l.rec(e.old)
			id, _, version, _ := recHead(rec)
			b.hash ^= proto.PublisherHash(id, version)
			b.sum ^= recSum(rec)
			i++
		}
		if e.put != nil {
			b.addPub(e.put)
		}
	}
	b.copyRun(l, i, l.count())
	next, ok := b.list(p.Version, time.Now().UnixNano())
	if !ok || uint32(next.count()) != p.Count || next.hash != p.Hash {
		return nil, false
	}
	return next, true
}

// update renders the list for a handler.
func (l *pubList) update(dataInfoID string) Update {
	return Update{DataInfoID: dataInfoID, Version: l.version, Zones: l.zoneData(), DataCenters: l.dcData(), list: l}
}

// zoneRun is one zone's part of pubList.order: its data strings up to end.
type zoneRun struct {
	zone string
	end  uint32
}

// zoneData returns the data by zone, sorted, as a handler sees it: a new
// map and new slices on every call, of strings that are substrings of the
// records. The order is worked out once per list and kept as offsets (4
// bytes a string, not a 16-byte string header per subscriber's copy).
func (l *pubList) zoneData() map[string][]string {
	l.orderOnce.Do(l.sortData)
	zones := make(map[string][]string, len(l.runs))
	all := slices.Clone(l.decodedData())
	start := uint32(0)
	for _, run := range l.runs {
		a := all[start:run.end:run.end] // full capacity: an append by a handler copies
		if len(a) == 0 {
			a = nil // zones whose publishers have no data
		}
		zones[run.zone] = a
		start = run.end
	}
	return zones
}

// decodedData holds a list's data strings in the order of pubList.order;
// no caller of zoneData sees its slice, only copies.
type decodedData struct{ data []string }

// decodedData returns the list's data strings in order: those decoded for
// an earlier update while they live, else decoded anew (and kept weakly
// for the next). Decoding them was a quarter of the SDK's CPU in a storm,
// the same list decoded for each of a service's hundred subscribers.
func (l *pubList) decodedData() []string {
	if wp := l.decoded.Load(); wp != nil {
		if d := wp.Value(); d != nil {
			return d.data
		}
	}
	d := &decodedData{data: make([]string, len(l.order))}
	for i, off := range l.order {
		r := recReader{s: l.recs, off: int(off)}
		d.data[i] = r.string()
	}
	wp := weak.Make(d)
	l.decoded.Store(&wp) // racing decoders store equal data: any will do
	return d.data
}

// sortData fills order and runs.
func (l *pubList) sortData() {
	type item struct {
		zone, data string
		off        uint32
	}
	var items []item
	zones := make(map[string]bool)
	for i := range l.offs {
		_, zone, _, r := recHead(l.rec(i))
		zones[zone] = true
		for n := r.count(1); n > 0; n-- {
			off := uint32(int(l.offs[i]) + r.off)
			items = append(items, item{zone, r.string(), off})
		}
	}
	slices.SortFunc(items, func(a, b item) int {
		if c := strings.Compare(a.zone, b.zone); c != 0 {
			return c
		}
		return strings.Compare(a.data, b.data)
	})
	l.order = make([]uint32, len(items))
	for i, it := range items {
		l.order[i] = it.off
	}
	names := slices.Sorted(maps.Keys(zones))
	l.runs = make([]zoneRun, len(names))
	j := 0
	for k, z := range names {
		for j < len(items) && items[j].zone == z {
			j++
		}
		l.runs[k] = zoneRun{zone: z, end: uint32(j)}
	}
}

// dcData returns the data by data center, sorted, as a handler sees it (a
// copy of its own), nil when no publisher names its data center.
func (l *pubList) dcData() map[string][]string {
	l.dcOnce.Do(func() {
		for i := range l.count() {
			dc, r := recDataCenter(l.rec(i))
			if dc == "" {
				continue
			}
			if l.byDC == nil {
				l.byDC = make(map[string][]string)
			}
			a := l.byDC[dc] // set even when it stays nil: a data center without data
			for n := r.count(1); n > 0; n-- {
				a = append(a, r.string())
			}
			l.byDC[dc] = a
		}
		for _, a := range l.byDC {
			slices.Sort(a)
		}
	})
	if l.byDC == nil {
		return nil
	}
	out := make(map[string][]string, len(l.byDC))
	for dc, a := range l.byDC {
		out[dc] = slices.Clone(a)
	}
	return out
}
