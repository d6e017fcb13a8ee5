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
