package push

import (
	"slices"
	"sync"

	"github.com/roster-registry/roster/proto"
)

// listView is what a push of one zone filter says of a list, read from its
// records rather than decoded: the count and hash (proto.ListHash) of the
// publishers it carries, an estimate of their encoded size (Push.Size
// without the frame's own fields: enough to choose between a delta and the
// full list), and whether any has attributes.
type listView struct {
	count int
	hash  uint64
	size  int
	attrs bool
}

// deltaOfLists returns what changed between the publishers of old and of
// cur that a subscriber of zone sees (filterZone): those of cur that old
// lacks or holds at another version, as records (only they are decoded
// for the frame), and the register ids of old that cur lacks, sorted;
// and, from the same pass over cur, cur's view.
func deltaOfLists(old, cur List, zone string) (changed List, removed []string, view listView) {
	prev := getVersions()
	for _, r := range old {
		if carries(zone, r.Zone(), r.DataCenter()) {
			prev[r.RegisterID()] = r.Version
		}
	}
	peak := len(prev)
	for _, r := range cur {
		if !carries(zone, r.Zone(), r.DataCenter()) {
			continue
		}
		id := r.RegisterID()
		view.count++
		view.hash ^= proto.PublisherHash(id, r.Version)
		view.size += r.PushSize()
		view.attrs = view.attrs || r.HasAttrs()
		if v, ok := prev[id]; !ok || v != r.Version {
			changed = append(changed, r)
		}
		delete(prev, id)
	}
	for id := range prev {
		removed = append(removed, id)
	}
	slices.Sort(removed) // deterministic frames
	putVersions(prev, peak)
	return changed, removed, view
}

// The versions-by-id maps of deltas are reused: a storm builds thousands of
// deltas a second, each a map as large as its service, garbage at once. A
// map keeps its room when cleared; one grown past maxPooledVersions (a huge
// service) is left to the collector rather than held.
var versionMaps = sync.Pool{New: func() any { return make(map[string]uint64) }}

const maxPooledVersions = 4096

func getVersions() map[string]uint64 { return versionMaps.Get().(map[string]uint64) }

// putVersions clears m, so that it keeps no register id alive, and pools
// it unless it held more than maxPooledVersions (peak: deltaFrom empties it).
func putVersions(m map[string]uint64, peak int) {
	clear(m)
	if peak <= maxPooledVersions {
		versionMaps.Put(m)
	}
}
