package client

import (
	"hash/maphash"
	"runtime"
	"sync"
	"unique"
	"weak"

	"github.com/roster-registry/roster/proto"
)

// lists shares immutable lists among every Client of the process. A process
// with many clients (a load generator, a proxy holding a client per tenant)
// subscribes to the same service on many of them; without sharing, each
// subscriber would hold its own copy of the same publishers. The cache holds
// weak pointers, so a list lives only as long as some subscriber holds it;
// its entry goes with it (runtime.AddCleanup).
//
// A sync.Map rather than a sharded map: the client package keeps to the
// standard library (imports_test.go), and sync.Map is a concurrent hash trie
// that readers on many push goroutines use without a shared lock.
var lists sync.Map // listKey → weak.Pointer[pubList]

// listKey names one list: the push's key and version, and what the list
// holds (count, proto.ListHash and contentSum). Lists under the same key
// hold the same publishers with the same data, whoever built them, so a
// session that sent a different list under the same version (another
// registry, a test) never sees another's.
type listKey struct {
	dataInfoID string
	zone       string
	version    uint64
	count      uint32
	hash       uint64
	sum        uint64
}

// key returns the key l is shared under, for pushes of dataInfoID and zone.
func (l *pubList) key(dataInfoID, zone string) listKey {
	return listKey{dataInfoID: dataInfoID, zone: zone, version: l.version, count: uint32(l.count()), hash: l.hash, sum: l.sum}
}

// sumSeed is random per process: a session cannot make two lists collide
// on purpose.
var sumSeed = maphash.MakeSeed()

// recSum hashes a record (record.go): everything a handler sees of a
// publisher. A list's sum is the XOR of its records' (like proto.ListHash,
// which covers only register ids and versions), so it is kept up to date
// incrementally.
func recSum(rec string) uint64 { return maphash.String(sumSeed, rec) }

func recSumBytes(rec []byte) uint64 { return maphash.Bytes(sumSeed, rec) }

// contentSum is the recSum of pp's record.
func contentSum(pp *proto.PushPublisher) uint64 {
	var a [256]byte
	return recSumBytes(appendRecord(a[:0], pp))
}

// sharedList returns the live list stored under k, if any.
func sharedList(k listKey) *pubList {
	v, ok := lists.Load(k)
	if !ok {
		return nil
	}
	return v.(weak.Pointer[pubList]).Value()
}

// share returns the live list stored under k (l's key), storing l there
// first if there is none.
func share(k listKey, l *pubList) *pubList {
	// The push's strings are substrings of its whole body: a key kept
	// holds copies, one per service for the whole process.
	k.dataInfoID, k.zone = unique.Make(k.dataInfoID).Value(), unique.Make(k.zone).Value()
	wp := weak.Make(l)
	for {
		v, loaded := lists.LoadOrStore(k, wp)
		if !loaded {
			runtime.AddCleanup(l, forgetList, listEntry{k, wp})
			return l
		}
		old := v.(weak.Pointer[pubList])
		if o := old.Value(); o != nil {
			return o
		}
		// The stored list was collected and its cleanup has not run yet:
		// take its place (its cleanup then finds another value and leaves
		// ours alone).
		if lists.CompareAndSwap(k, old, wp) {
			runtime.AddCleanup(l, forgetList, listEntry{k, wp})
			return l
		}
	}
}

// listEntry is what a cleanup needs to remove a collected list's entry; it
// holds the list only weakly, so the list can be collected.
type listEntry struct {
	k  listKey
	wp weak.Pointer[pubList]
}

// forgetList removes a collected list's entry unless another list took its
// place.
func forgetList(e listEntry) { lists.CompareAndDelete(e.k, e.wp) }

// fullListShared returns the list a full push carries, shared with every
// other subscriber of the process at the same list: it is built only when
// none is live.
func fullListShared(p *proto.Push) *pubList {
	k := listKey{dataInfoID: p.DataInfoID, zone: p.Zone, version: p.Version, count: uint32(len(p.Publishers))}
	for i := range p.Publishers {
		pp := &p.Publishers[i]
		k.hash ^= proto.PublisherHash(pp.RegisterID, pp.Version)
		k.sum ^= contentSum(pp)
	}
	if l := sharedList(k); l != nil {
		return l
	}
	// Built from scratch, the list may differ from k (a register id twice
	// in the push): it is shared under its own key.
	l := fullList(p)
	if l == nil {
		return nil
	}
	return share(l.key(p.DataInfoID, p.Zone), l)
}

// applyDeltaShared is applyDelta for lists shared across clients. It works
// out the result's count, hash and sum from l and the push alone (work in
// proportion to the delta), checks them as applyDelta does, and returns
// the live list with that key if there is one: every client applying the
// same delta to the same list ends on the same pointer, and only the first
// copies the list.
func (l *pubList) applyDeltaShared(p *proto.Push) (*pubList, bool) {
	if l == nil || l.version != p.BaseVersion {
		return nil, false
	}
	k := l.deltaKey(p)
	if k.count != p.Count || k.hash != p.Hash {
		return nil, false
	}
	if next := sharedList(k); next != nil {
		return next, true
	}
	next, ok := l.applyDelta(p)
	if !ok {
		return nil, false
	}
	return share(next.key(p.DataInfoID, p.Zone), next), true
}

// deltaKey returns the key of the list applyDelta(p) would build from l,
// without building it.
func (l *pubList) deltaKey(p *proto.Push) listKey {
	k := l.key(p.DataInfoID, p.Zone)
	k.version = p.Version
	var buf deltaBuf
	for _, e := range l.deltaEdits(p, buf[:0]) {
		if e.old >= 0 {
			rec := l.rec(e.old)
			_, _, version, _ := recHead(rec)
			k.count--
			k.hash ^= proto.PublisherHash(e.id, version)
			k.sum ^= recSum(rec)
		}
		if e.put != nil {
			k.count++
			k.hash ^= proto.PublisherHash(e.id, e.put.Version)
			k.sum ^= contentSum(e.put)
		}
	}
	return k
}
