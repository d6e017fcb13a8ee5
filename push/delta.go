package push

import (
	"slices"

	"github.com/roster-registry/roster/proto"
)

// Delta returns what changed from old to cur: the publishers of cur that
// old lacks or holds at another version, and the register ids of old that
// cur lacks. Neither list is shared with the inputs' backing arrays.
func Delta(old, cur []proto.PushPublisher) (changed []proto.PushPublisher, removed []string) {
	prev := make(map[string]uint64, len(old))
	for i := range old {
		prev[old[i].RegisterID] = old[i].Version
	}
	return deltaFrom(prev, cur)
}

// deltaOfList is Delta from the publishers of old that a subscriber of zone
// sees (filterZone), read from the records: a delta needs only the base's
// register ids and versions, so the base is not decoded.
func deltaOfList(old List, zone string, cur []proto.PushPublisher) (changed []proto.PushPublisher, removed []string) {
	prev := make(map[string]uint64, len(old))
	for _, r := range old {
		if carries(zone, r.Zone(), r.DataCenter()) {
			prev[r.RegisterID()] = r.Version
		}
	}
	return deltaFrom(prev, cur)
}

// deltaFrom is Delta from a base given as versions by register id; it
// empties prev.
func deltaFrom(prev map[string]uint64, cur []proto.PushPublisher) (changed []proto.PushPublisher, removed []string) {
	for i := range cur {
		v, ok := prev[cur[i].RegisterID]
		if !ok || v != cur[i].Version {
			changed = append(changed, cur[i])
		}
		delete(prev, cur[i].RegisterID)
	}
	for id := range prev {
		removed = append(removed, id)
	}
	slices.Sort(removed) // deterministic frames
	return changed, removed
}
