package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/roster-registry/roster/internal/proccluster"
)

// syncResult is what watchSynced saw.
type syncResult struct {
	after time.Duration // until every slot had a synced follower; -1 if not within the deadline
	last  string        // the last status, described, when not
}

// watchSynced measures, in the background, the time from from until every
// slot of the meta leader's table has a leader and a synced follower: until
// then a second failure finds nothing synced to promote for some slot.
// gone is the data node lost ("" after the loss of every node): until meta
// took it out of the table, its slots count as unprotected whatever meta
// last heard from it; once out, gone may come back as a new node (a
// restart on the same address) and count again. It gives up after the
// deadline. The caller receives the result (Trial.synced records it).
func (e *env) watchSynced(ctx context.Context, from time.Time, gone string) <-chan syncResult {
	ch := make(chan syncResult, 1)
	go func() {
		pctx, cancel := context.WithDeadline(ctx, from.Add(e.cfg.Deadline))
		defer cancel()
		var last string
		err := proccluster.Poll(pctx, 50*time.Millisecond, "every slot with a synced follower", func(ctx context.Context) (bool, error) {
			st, err := e.c.TableStatus(ctx)
			if err != nil {
				return false, err
			}
			if gone != "" && !st.Names(gone) {
				gone = "" // taken out: what names it later is a new node
			}
			bad := st.Unprotected(gone)
			if len(bad) > 0 {
				last = fmt.Sprintf("table epoch %d: %d of %d slots without a synced follower (first: %v)",
					st.Epoch, len(bad), len(st.Slots), bad[:min(5, len(bad))])
			}
			return len(st.Slots) > 0 && len(bad) == 0, nil
		})
		if err != nil {
			ch <- syncResult{after: -1, last: fmt.Sprintf("%v; %s", err, last)}
			return
		}
		ch <- syncResult{after: time.Since(from)}
	}()
	return ch
}

// synced records the time to every slot with a synced follower again; a
// run where that did not happen within the deadline did not recover.
func (run *Trial) synced(r syncResult) {
	run.SyncWatched, run.Synced = true, r.after
	if r.after < 0 {
		run.Recovered = false
		run.Details = append(run.Details, "followers not synced within the deadline: "+r.last)
	}
}
