package slotstore

import (
	"sync"
	"time"
)

// slotVersions issues the datum versions of each slot, for a store and its
// siblings (Store.Sibling). A version is stored in its datum before the
// slot issues the next one, so of the datums of one dataInfoId held by
// several of these stores, the one changed last holds the highest
// version: whoever serves the highest of them (a data node serving its
// own publishers with those it imports from other data centers) sees every
// change as a higher version, two changes in one millisecond included.
type slotVersions []slotVersion

type slotVersion struct {
	mu   sync.Mutex
	last uint64 // the highest version issued in the slot; it never goes down
}

// stamp gives d, of slot, a new version: unix-ms<<16 of now, or the slot's
// last one + 1 when the clock is not ahead of it. The slot's last version
// outlives its datums, so a datum deleted and made again, or a slot
// dropped and taken back, keeps growing. d.mu must be held.
func (vs slotVersions) stamp(slot uint32, d *datum, now time.Time) {
	v := uint64(now.UnixMilli()) << 16
	sv := &vs[slot]
	sv.mu.Lock()
	v = max(v, sv.last+1, d.version.Load()+1)
	sv.last = v
	d.version.Store(v)
	sv.mu.Unlock()
}
