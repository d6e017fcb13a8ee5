package push

import (
	"slices"
	"sync"
)

// deltaOfLists returns what changed between the publishers of old and of
// cur that a subscriber of zone sees (filterZone): those of cur that old
// lacks or holds at another version, as records (only they are decoded
// for the frame), and the register ids of old that cur lacks, sorted.
func deltaOfLists(old, cur List, zone string) (changed List, removed []string) {
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
	return changed, removed
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
