package push

import (
	"context"
	"time"
)

// retryLoop resends unacknowledged pushes with backoff until ctx is done. It visits only the groups some subscriber of
// which has not acknowledged the cached version (etcd keeps its synced and
// unsynced watchers apart the same way): a settled group costs nothing.
func (e *Engine) retryLoop(ctx context.Context) {
	t := time.NewTicker(max(e.cfg.Retry/2, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, g := range e.unsettledGroups() {
			if ctx.Err() != nil {
				return
			}
			e.retryGroup(g)
		}
	}
}

// retryGroup pushes an unsettled group again, and fetches its datum when no
// fetch of it is under way and none succeeded.
func (e *Engine) retryGroup(g *group) {
	en, ok := e.cache.Load(g.id)
	if !ok {
		e.Refetch(g.id)
		return
	}
	en.mu.Lock()
	wasHeld, stuck := en.release(), en.stuck()
	en.mu.Unlock()
	if wasHeld {
		// A fetch waited for acks that have not come: the resends due
		// go out with what it brings (its push follows it).
		e.fetches.Add(en.id)
		return
	}
	if stuck {
		e.Refetch(g.id)
	}
	e.pushGroup(g.id)
}

// unsettledGroups returns the groups the retry loop visits.
func (e *Engine) unsettledGroups() []*group {
	e.umu.Lock()
	defer e.umu.Unlock()
	out := make([]*group, 0, e.unsettled.Len())
	for g := range e.unsettled.All() {
		out = append(out, g)
	}
	return out
}

// Repair fetches the followed datums in ids that no fetch is under way for
// and none succeeded (a fetch found them unwanted before they were
// followed).
func (e *Engine) Repair(ids []string) {
	for _, id := range ids {
		en, ok := e.cache.Load(id)
		if ok {
			en.mu.Lock()
			ok = !en.stuck()
			en.mu.Unlock()
		}
		if !ok {
			e.Refetch(id)
		}
	}
}

// fetchRetryLoop queues failed fetches again when their backoff ends,
// until ctx is done.
func (e *Engine) fetchRetryLoop(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.retryWake:
		case <-timer.C:
		}
		next := e.retryFetches(time.Now())
		wait := time.Hour
		if !next.IsZero() {
			wait = time.Until(next)
		}
		timer.Reset(wait)
	}
}
