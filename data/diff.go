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

// maxDiffIDs bounds the dataInfoIds of one DiffRequest, and
// maxDiffPublishers the publishers the peer's digest gave them, so a large
// difference is fetched in pieces of a few hundred KB. At 10M publishers a
// slot held 400 datums of 100 publishers: one request asked for all of them
// and its 5 MB reply passed the peer's outbound bound (rpcMaxOutbound was
// then 4 MiB) whenever anything else waited on the link, which cut the link
// off; and such a reply rarely arrived within the deadline on a busy node.
const (
	maxDiffIDs        = 512
	maxDiffPublishers = 2048
)

// differing returns the dataInfoIds of slot whose entries differ between a
// peer's digest and ours, those in only one of them included, each with the
// peer's publisher count (0: the peer has none). Ours is sorted
// (Store.Digest); the peer's is sorted here, as it comes from the network,
// and its entries of other slots are ignored.
func differing(theirs, ours []proto.DigestEntry, slot uint32, slots int) []proto.DigestEntry {
	theirs = slices.DeleteFunc(theirs, func(e proto.DigestEntry) bool {
		return slotstore.SlotOf(e.DataInfoID, slots) != slot
	})
	slices.SortFunc(theirs, func(a, b proto.DigestEntry) int { return cmp.Compare(a.DataInfoID, b.DataInfoID) })
	var out []proto.DigestEntry
	i, j := 0, 0
	for i < len(theirs) || j < len(ours) {
		switch {
		case j == len(ours) || i < len(theirs) && theirs[i].DataInfoID < ours[j].DataInfoID:
			out = append(out, theirs[i])
			i++
		case i == len(theirs) || ours[j].DataInfoID < theirs[i].DataInfoID:
			out = append(out, proto.DigestEntry{DataInfoID: ours[j].DataInfoID})
			j++
		default:
			if theirs[i] != ours[j] {
				out = append(out, theirs[i])
			}
			i++
			j++
		}
	}
	// A peer's duplicate entries name an id once.
	return slices.CompactFunc(out, func(a, b proto.DigestEntry) bool { return a.DataInfoID == b.DataInfoID })
}

// diffIDs returns the dataInfoIds of want.
func diffIDs(want []proto.DigestEntry) []string {
	ids := make([]string, len(want))
	for i, e := range want {
		ids[i] = e.DataInfoID
	}
	return ids
}

// nextDiffChunk returns how many entries of want the next DiffRequest asks
// for: at most maxDiffIDs, and at most maxDiffPublishers by their counts
// (an entry of unknown count, 0, counts as one), but never none.
func nextDiffChunk(want []proto.DigestEntry) int {
	n, pubs := 0, 0
	for n < len(want) && n < maxDiffIDs {
		pubs += max(1, int(want[n].Count))
		if n > 0 && pubs > maxDiffPublishers {
			break
		}
		n++
	}
	return n
}

// fetchDiff asks r for the publishers of the dataInfoIds of want (of slot,
// owned by sessionID when set) in pieces (nextDiffChunk), each with its own
// deadline (peerRequestTimeout) so a large difference makes progress piece
// by piece, and calls apply once per id with the peer's publishers of it
// (none: the peer has none) and, when the peer sent them, their owners.
// Publishers of ids not asked for are ignored.
func fetchDiff(ctx context.Context, r netio.Requester, slot uint32, sessionID string, want []proto.DigestEntry,
	apply func(id string, pubs []proto.Publisher, owners []string)) error {
	for len(want) > 0 {
		chunk := diffIDs(want[:nextDiffChunk(want)])
		want = want[len(chunk):]
		var d proto.SlotDiff
		cctx, cancel := context.WithTimeout(ctx, peerRequestTimeout)
		err := netio.Call(cctx, r, &proto.DiffRequest{Slot: slot, SessionID: sessionID, DataInfoIDs: chunk}, &d)
		cancel()
		if err != nil {
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
