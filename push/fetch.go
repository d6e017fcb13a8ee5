package push

import (
	"context"
	"math"
	"time"

	"github.com/roster-registry/roster/proto"
)

// Notify takes a data node's change notice through the debounce. A notice
// of the cached version with another content (a leader hand-over) asks for
// a refetch, which the debounce would otherwise merge into "no change".
func (e *Engine) Notify(v proto.DatumVersion) {
	noticed.Inc()
	if v.Hash != 0 {
		if en, ok := e.cache.Load(v.DataInfoID); ok {
			en.mu.Lock()
			stale := en.fetched && v.Version == en.dataVersion && v.Hash != en.hash
			en.mu.Unlock()
			if stale {
				v.Version = refetchVersion
			}
		}
	}
	e.debounce.Add(v.DataInfoID, v.Version)
}

// Changed handles the versions a data node reported (a version scan, a
// link's first exchange): each is fetched unless cached, without debounce.
func (e *Engine) Changed(vs []proto.DatumVersion) {
	for _, v := range vs {
		e.changed(v)
	}
}

// Known returns the version and hash of the datum of id cached here, zero
// when none is: a version scan sends them, so that the data node answers
// only what differs (proto.Interest.Known), and changed finds those
// current that it would find current.
func (e *Engine) Known(id string) proto.VersionHash {
	en, ok := e.cache.Load(id)
	if !ok {
		return proto.VersionHash{}
	}
	en.mu.Lock()
	defer en.mu.Unlock()
	if !en.fetched {
		return proto.VersionHash{}
	}
	return proto.VersionHash{Version: en.dataVersion, Hash: en.hash}
}

// Refetch fetches a datum whatever version is cached (after a data node
// reconnects, or when a subscriber may have missed a change).
func (e *Engine) Refetch(id string) {
	e.changed(proto.DatumVersion{DataInfoID: id, Version: refetchVersion})
}

// refetchVersion is the version a refetch asks for: above any the cache
// holds, so the datum is fetched whatever is cached, and never held
// (holdFetch).
const refetchVersion = math.MaxUint64

// changed queues a fetch of v unless the cached datum is that version. A
// version lower than the cached one is fetched too: after a leader
// hand-over the new leader's versions may be below those its predecessor
// handed out, and ignoring them would leave subscribers stale. Clients
// never see a version go down: the pushed version is the engine's own
// (entry.advance).
func (e *Engine) changed(v proto.DatumVersion) {
	id := v.DataInfoID
	if !e.wanted(id) {
		return // no subscriber here (the interest update is on its way)
	}
	en := e.entry(id)
	en.mu.Lock()
	if en.current(v) {
		en.mu.Unlock()
		return
	}
	en.want = max(en.want, v.Version)
	if en.noticed == 0 {
		en.noticed = time.Now().UnixNano()
	}
	en.gen++
	start := !en.fetching
	if v.Version == refetchVersion {
		start = start || en.hold == held
		en.hold = released
	}
	en.fetching = true
	en.mu.Unlock()
	if start {
		e.fetches.Add(en.id)
	}
}

// wanted reports whether id has subscribers here or is followed.
func (e *Engine) wanted(id string) bool { return e.Subscribed(id) || e.merge.Follows(id) }

// fetchLoop is one of the fetch workers.
func (e *Engine) fetchLoop(ctx context.Context) {
	for {
		id, ok := e.fetches.Pop()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-e.fetches.Ready():
			}
			continue
		}
		e.fetch(ctx, id)
	}
}

// fetch fetches id once and pushes it. A fetch asked for meanwhile queues
// it again; a failed one waits for its backoff in retries.
func (e *Engine) fetch(ctx context.Context, id string) {
	en, ok := e.cache.Load(id)
	if !ok {
		return // forgotten
	}
	if !e.wanted(id) {
		en.mu.Lock()
		// Nobody here waits for the notices any more: a later subscriber's
		// first change must not be timed from them.
		en.fetching, en.hold, en.noticed = false, holdable, 0
		en.mu.Unlock()
		return
	}
	en.mu.Lock()
	asked, queued, noticedAt := en.gen, en.fetching && en.hold != held, en.noticed
	mayHold := en.fetched && en.hold == holdable
	var cached proto.DatumVersion // zero: nothing cached
	var own List
	if en.fetched {
		cached = proto.DatumVersion{DataInfoID: en.id, Version: en.dataVersion, Hash: en.hash}
		own = en.own
	}
	en.mu.Unlock()
	if !queued {
		return // a stale retry of an entry forgotten and made again since, or held
	}
	if mayHold && e.holdFetch(en) {
		return
	}
	start := time.Now()
	if noticedAt != 0 {
		fetchWait.Update(start.Sub(time.Unix(0, noticedAt)).Seconds())
	}
	fctx, cancel := context.WithTimeout(ctx, e.cfg.FetchTimeout)
	d, err := e.src.Fetch(fctx, id, cached, own)
	cancel()
	fetchTime.Update(time.Since(start).Seconds())
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		fetchErrors.Inc()
		e.fetchLog.Warn(e.log, "cannot fetch datum", "dataInfoId", id, "err", err)
		en.mu.Lock()
		en.failures++
		wait := fetchBackoff(en.failures)
		en.mu.Unlock()
		e.umu.Lock()
		e.retries[en.id] = time.Now().Add(wait)
		e.umu.Unlock()
		select {
		case e.retryWake <- struct{}{}:
		default:
		}
		return
	}
	fetchesDone.Inc()
	en.mu.Lock()
	en.failures = 0
	en.settleUntil = 0
	if d.Settle > 0 {
		en.settleUntil = time.Now().Add(d.Settle).UnixNano()
	}
	if !en.fetched || d.Version != en.dataVersion || d.Hash != en.hash {
		en.own = d.Publishers
		en.fetched, en.dataVersion, en.hash = true, d.Version, d.Hash
		e.relist(en, true)
	}
	again := en.gen != asked // a change was announced during the fetch
	if !again {
		en.fetching, en.hold = false, holdable
		en.want = en.dataVersion
		// The notices are answered, by a new version (advance cleared
		// noticed) or by nothing new (a refetch): the next change's
		// latency must not start at this one's notice.
		en.noticed = 0
	}
	en.mu.Unlock()
	e.pushGroup(id)
	e.merge.Fetched(id)
	if again {
		e.fetches.Add(en.id)
	}
}

// holdFetch leaves en's fetch for later when every subscriber of its group
// has a push out and unacknowledged: pushGroup would send none of them
// anything before their acks, and in a storm more changes come meanwhile,
// so the datum fetched now would be replaced by the next fetch before any
// subscriber saw it (in a 1M storm a session fetched each service 4 to 8
// times for 2 or 3 pushes to each subscriber; 3.4 times with the hold:
// bench/results/scale-2026-12-07-1M-fetch-hold.md). The first ack that clears a send, a send to
// a subscriber, a refetch or the retry loop's next visit releases the fetch
// (releaseFetch). The notice's time stays, so the hold counts in the push
// latency. It reports whether the fetch is left: held, or released
// meanwhile (the fetch that released it queued does the work).
func (e *Engine) holdFetch(en *entry) bool {
	g := e.group(en.id)
	if g == nil {
		return false
	}
	// Held first, then the group read (entry.mu and group.mu are never held
	// together): an ack that clears a send after the read finds the hold
	// and releases it; one before it makes the read see a subscriber free.
	en.mu.Lock()
	en.hold = held
	en.mu.Unlock()
	g.mu.Lock()
	busy := g.subs.len() > 0 && len(g.out) == g.subs.len()
	g.mu.Unlock()
	if busy {
		fetchesHeld.Inc()
		return true
	}
	en.mu.Lock()
	defer en.mu.Unlock()
	return !en.release() // else released meanwhile, and queued
}

// releaseFetch queues en's held fetch, if there is one.
func (e *Engine) releaseFetch(en *entry) {
	en.mu.Lock()
	was := en.release()
	en.mu.Unlock()
	if was {
		e.fetches.Add(en.id)
	}
}

// release takes en's held fetch, if any, for the caller to queue, and
// reports whether there was one. en.mu must be held.
func (en *entry) release() bool {
	if en.hold != held {
		return false
	}
	en.hold = released
	return true
}

// fetchBackoff is the wait before the next try after n failed fetches.
func fetchBackoff(n int) time.Duration {
	d := 50 * time.Millisecond
	for i := 1; i < n && d < 2*time.Second; i++ {
		d *= 2
	}
	return min(d, 2*time.Second)
}

// relist sets en's pushed list: its own publishers merged with what the
// Merger adds, at the higher of their versions (pushed as 1 when the
// datum was never written, so that clients, which take 0 as "nothing
// received", still see the empty list). Unless force, an unchanged list
// is left as it is. It reports whether the list was set. en.mu must be held.
func (e *Engine) relist(en *entry, force bool) bool {
	pubs, version := e.merge.Merge(en.id, en.own, max(en.dataVersion, 1))
	if !force && len(pubs) == len(en.pubs) && pubs.hash() == en.pubs.hash() {
		return false
	}
	en.advance(version, pubs)
	return true
}

// Remerge rebuilds id's pushed list from what the Merger adds now, and
// pushes it if it changed (or if id became ready to push).
func (e *Engine) Remerge(id string) {
	en, ok := e.cache.Load(id)
	if !ok {
		return
	}
	en.mu.Lock()
	if en.fetched {
		e.relist(en, false)
	}
	en.mu.Unlock()
	e.pushGroup(id)
}

// retryFetches queues the failed fetches whose backoff ended, and returns
// when the next of the others ends (zero: none).
func (e *Engine) retryFetches(now time.Time) (next time.Time) {
	var due []string
	e.umu.Lock()
	for id, at := range e.retries {
		if !now.Before(at) {
			due = append(due, id)
			delete(e.retries, id)
		} else if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	e.umu.Unlock()
	for _, id := range due {
		e.fetches.Add(id)
	}
	return next
}
