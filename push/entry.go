package push

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-registry/roster/proto"
)

// historyLen is how many earlier versions of a datum are kept to build
// delta pushes from: a client more than this many versions behind gets the
// full list.
const historyLen = 4

type frameKey struct {
	filter string
	enc    proto.Encoding
	base   uint64 // 0: full list; else a delta from this version
	attrs  bool   // with the publishers' attributes (Client.Attrs)
}

// built is a version's frames and, once a full frame was built, the list
// decoded for it (List.decode, all zones), which the version's other full
// frames (zone filters, encodings) are encoded from too; a delta decodes
// only its changed publishers. Dropped together once every subscriber
// acknowledged the version.
type built struct {
	list   []proto.PushPublisher
	frames map[frameKey][]byte
}

// pastVersion is an earlier version of a datum, for deltas.
type pastVersion struct {
	version uint64
	pubs    List
}

// versionLearned is when the engine learned of a version it pushed.
type versionLearned struct {
	version uint64
	at      int64 // unix ns
}

// learnedVersions is when the engine learned of a datum's version and of
// those in its history, newest first. past is nil once the datum settled
// (entry.settled drops the history): most datums are settled, and the
// whole array cost 80 bytes each.
type learnedVersions struct {
	cur  versionLearned
	past *[historyLen]versionLearned
}

// past returns the list of version, when the history holds it (0: none).
// e.mu must be held.
func (e *entry) past(version uint64) (List, bool) {
	if version == 0 {
		return nil, false
	}
	for _, h := range e.history {
		if h.version == version {
			return h.pubs, true
		}
	}
	return nil, false
}

// entry is the engine's copy of one datum and the push frames built from
// it: each (version, zone filter, encoding, delta base) is encoded and
// compressed once, and the same immutable bytes go to every connection.
type entry struct {
	id string // the cache's key: a string of the engine's own

	mu sync.Mutex
	// gen counts fetch requests, so one arriving mid-fetch is not lost
	// (compared for equality only: it may wrap).
	gen      uint32
	fetched  bool      // a fetch succeeded: dataVersion, hash, own and pubs are the datum's
	fetching bool      // queued, being fetched, or waiting to retry a failed fetch
	hold     fetchHold // whether a fetch is held for acks (holdFetch)
	// The fields are ordered so that no padding takes the entry (one per
	// subscribed datum) from 176 bytes to the next size class, 192.
	dataVersion uint64 // the data leader's version of the datum
	hash        uint64 // Datum.Hash: one version can name two contents across a leader hand-over
	version     uint64 // version pushed to clients (never 0 once fetched)
	// noticed is when the engine learned of a change not yet in version
	// (unix ns, 0: none): where the push latency of the next version starts.
	noticed  int64
	want     uint64 // newest version announced and not yet fetched
	failures int    // consecutive failed fetches, for the backoff
	// learned holds when the engine learned of version and of those in
	// history, newest first: replaced whole by advance, read without mu by
	// acks on event loops (which must not wait for a frame being built).
	learned atomic.Pointer[learnedVersions]
	// settleUntil (unix ns) is when the datum's slot stops settling after
	// its leader rebuilt it from nothing (proto.Datum.SettleMs): until
	// then a returning subscriber keeps the list it holds.
	settleUntil int64
	built       *built        // the current version's frames, nil until one is built
	own         List          // the datum's publishers as fetched (all zones)
	pubs        List          // own merged with what the Merger adds
	history     []pastVersion // earlier versions, newest last
}

// fetchHold is where a fetch stands with holdFetch.
type fetchHold uint8

const (
	holdable fetchHold = iota // the next fetch may be held
	held                      // fetching, but left for an ack (holdFetch)
	released                  // released from a hold, or a refetch: not held again
)

// advance makes pubs e's list at version, or at the version after e's
// when version is not above it (pushed versions only grow), keeping the
// list it replaces for deltas. e.mu must be held.
func (e *entry) advance(version uint64, pubs List) {
	if version <= e.version {
		version = e.version + 1
	}
	if e.version != 0 {
		e.history = append(e.history, pastVersion{e.version, e.pubs})
		if len(e.history) > historyLen {
			e.history = e.history[1:]
		}
	}
	e.version, e.pubs, e.built = version, pubs, nil
	next := &learnedVersions{cur: versionLearned{version, e.noticed}}
	if next.cur.at == 0 {
		next.cur.at = time.Now().UnixNano()
	}
	if prev := e.learned.Load(); prev != nil {
		next.past = new([historyLen]versionLearned)
		next.past[0] = prev.cur
		if prev.past != nil {
			copy(next.past[1:], prev.past[:historyLen-1])
		}
	}
	e.learned.Store(next)
	e.noticed = 0
}

// learnedAt is when the engine learned of version (the latest or a recent
// one: a slow client acks a version the datum has moved on from), 0 when
// it is not known any more. It takes no lock.
func (e *entry) learnedAt(version uint64) int64 {
	l := e.learned.Load()
	if l == nil {
		return 0
	}
	if l.cur.version == version {
		return l.cur.at
	}
	if l.past != nil {
		for _, v := range l.past {
			if v.version == version {
				return v.at
			}
		}
	}
	return 0
}

// current reports whether the cached datum is v: the same version and, when
// v carries one, the same hash. e.mu must be held.
func (e *entry) current(v proto.DatumVersion) bool {
	return e.fetched && v.Version == e.dataVersion && (v.Hash == 0 || v.Hash == e.hash)
}

// stuck reports whether e needs a fetch nobody is doing. e.mu must be held.
func (e *entry) stuck() bool {
	return !e.fetching && (!e.fetched || e.want > e.dataVersion)
}

// settled drops the frames and the earlier versions of e once every
// subscriber acknowledged version: nobody needs a delta, and a subscriber
// that comes later gets the full list, which is built again. Across many
// datums the frames would otherwise hold every list a second time.
func (e *entry) settled(version uint64) {
	e.mu.Lock()
	if e.version == version {
		e.built, e.history = nil, nil
		if l := e.learned.Load(); l != nil && l.past != nil {
			e.learned.Store(&learnedVersions{cur: l.cur})
		}
	}
	e.mu.Unlock()
}

// raise gives e's list a version above held, the list unchanged, so that a
// client holding a list at held takes it. It reports whether it did.
func (e *entry) raise(held uint64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.fetched || e.version > held {
		return false
	}
	e.advance(held+1, e.pubs)
	return true
}

// maxHeldAhead bounds how far the version a client says it holds
// (PushAck.Held) may be ahead of the engine's clock. Versions are times
// (unix ms << 16), so one further ahead was not handed out by a registry:
// it is ignored, which keeps a client from pushing a datum's versions to
// the end of their range.
const maxHeldAhead = 24 * time.Hour

// heldValid reports whether v may be a version a registry handed out by now.
func heldValid(v uint64, now time.Time) bool {
	return v <= uint64(now.Add(maxHeldAhead).UnixMilli())<<16|0xffff
}
