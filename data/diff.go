package data

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// maxDiffIDs bounds the dataInfoIds of one DiffRequest, so a large
// difference is fetched in pieces and no reply nears the frame limit.
const maxDiffIDs = 512

// differing returns the dataInfoIds of slot whose entries differ between a
// peer's digest and ours, those in only one of them included. Ours is
// sorted (Store.Digest); the peer's is sorted here, as it comes from the
// network, and its entries of other slots are ignored.
func differing(theirs, ours []proto.DigestEntry, slot uint32, slots int) []string {
	theirs = slices.DeleteFunc(theirs, func(e proto.DigestEntry) bool {
		return slotstore.SlotOf(e.DataInfoID, slots) != slot
	})
	slices.SortFunc(theirs, func(a, b proto.DigestEntry) int { return cmp.Compare(a.DataInfoID, b.DataInfoID) })
	var out []string
	i, j := 0, 0
	for i < len(theirs) || j < len(ours) {
		switch {
		case j == len(ours) || i < len(theirs) && theirs[i].DataInfoID < ours[j].DataInfoID:
			out = append(out, theirs[i].DataInfoID)
			i++
		case i == len(theirs) || ours[j].DataInfoID < theirs[i].DataInfoID:
			out = append(out, ours[j].DataInfoID)
			j++
		default:
			if theirs[i] != ours[j] {
				out = append(out, ours[j].DataInfoID)
			}
			i++
			j++
		}
	}
	return slices.Compact(out) // a peer's duplicate entries name an id once
}

// fetchDiff asks r for the publishers of ids (of slot, owned by sessionID
// when set) in pieces, and calls apply once per id with the peer's
// publishers of it (none: the peer has none) and, when the peer sent them,
// their owners. Publishers of ids not asked for are ignored.
func fetchDiff(ctx context.Context, r netio.Requester, slot uint32, sessionID string, ids []string,
	apply func(id string, pubs []proto.Publisher, owners []string)) error {
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), maxDiffIDs)]
		ids = ids[len(chunk):]
		var d proto.SlotDiff
		if err := netio.Call(ctx, r, &proto.DiffRequest{Slot: slot, SessionID: sessionID, DataInfoIDs: chunk}, &d); err != nil {
			return fmt.Errorf("cannot fetch the diff of slot %d: %w", slot, err)
		}
		if len(d.Owners) != 0 && len(d.Owners) != len(d.Publishers) {
			return fmt.Errorf("cannot apply the diff of slot %d: %d owners for %d publishers: %w",
				slot, len(d.Owners), len(d.Publishers), proto.ErrMalformed)
		}
		at := make(map[string][]int, len(chunk))
		for _, id := range chunk {
			at[id] = nil
		}
		for i := range d.Publishers {
			id := d.Publishers[i].DataInfoID
			if idx, ok := at[id]; ok {
				at[id] = append(idx, i)
			}
		}
		for _, id := range chunk {
			idx := at[id]
			pubs := make([]proto.Publisher, len(idx))
			var owners []string
			if len(d.Owners) > 0 {
				owners = make([]string, len(idx))
			}
			for k, i := range idx {
				pubs[k] = d.Publishers[i]
				if owners != nil {
					owners[k] = d.Owners[i]
				}
			}
			apply(id, pubs, owners)
		}
	}
	return nil
}
