package push

import (
	"context"
	"time"

	"github.com/roster-registry/roster/proto"
)

// maxPushBackoff caps the delay between resends of an unacknowledged push.
const maxPushBackoff = 30 * time.Second

type pushTarget struct {
	client *Client
	filter string
}

// pushLoop pushes the scheduled groups until ctx is done: off the event
// loops, and a replay of many subscribers of one group costs one pass.
func (e *Engine) pushLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.scheduled.Ready():
		}
		for _, id := range e.scheduled.TakeAll() {
			e.pushGroup(id)
		}
	}
}

// pushGroup sends the cached datum to every subscriber of id that has not
// acknowledged it, unless a send is already out and not yet due for retry.
// Subscribers on one connection with one zone filter share one frame, and
// every connection needing the same bytes gets them in one fan-out. A group
// some subscriber of which has not acknowledged stays in the retry loop's
// set.
func (e *Engine) pushGroup(id string) {
	g := e.group(id)
	if g == nil {
		return
	}
	en, ok := e.cache.Load(id)
	if e.stopped.Load() || !ok || !e.merge.Ready(id) {
		e.markUnsettled(g) // pushed on resume, after the fetch, or once ready
		return
	}
	en.mu.Lock()
	version := en.version
	cached := en.fetched
	fetching := en.fetching
	now := time.Now().UnixNano()
	settling := now < en.settleUntil
	en.mu.Unlock()
	if !cached {
		e.markUnsettled(g)
		return
	}
	// above: the newest list a subscriber holds that is at least as new as
	// version, which the engine's version must pass (session/doc.go).
	var above uint64
	// base: the oldest version acknowledged by the subscribers of a target,
	// which a delta must start from (0 when one has nothing yet). Taken
	// from the pool only when a subscriber needs a push.
	var sc *sendScratch
	oldest := version // the oldest version a subscriber acknowledged
	overTotal := e.out.Outbound() > int64(e.cfg.PauseTotal)
	g.mu.Lock()
	at := -1 // sub's position in g.subs
	for sub := range g.subs.all() {
		at++
		oldest = min(oldest, sub.acked)
		if sub.acked >= version {
			continue
		}
		held := g.heldBy(sub)
		if settling && (sub.returning() && sub.acked == 0 || held >= version) {
			// The registry is being rebuilt and the client's list is from
			// before: it keeps it while clients replay.
			continue
		}
		if held >= version {
			// The client would not take this version. Once a fetch
			// confirmed that the data leader has nothing newer either
			// (this session may only be behind), the version goes above it.
			if !fetching {
				above = max(above, held)
			}
			continue
		}
		st := g.sent(sub)
		resend, lost := st.version == version, false
		switch {
		case resend:
			var due bool
			if due, lost = sub.client().resendDue(st, now, e.cfg.Retry); !due || sub.client().conn.Outbound() > 0 {
				// Out and not yet due, or due but the connection has not
				// even written what was queued: the first copy is still
				// on its way.
				continue
			}
		case st.version > sub.acked && time.Duration(now-st.at) < sub.client().resendAfter(e.cfg.Retry, 1):
			// An older version is out and not yet acknowledged: the
			// newest follows its ack (Ack schedules the group), so a
			// datum changing faster than the client takes its pushes
			// costs one push per round trip, not one per version. A
			// client that never acks gets it when a resend would be due.
			pushesHeld.Inc()
			continue
		}
		t := pushTarget{sub.client(), sub.filter()}
		if e.cfg.Gate != nil && !e.cfg.Gate(t.client) {
			pushesGated.Inc()
			continue
		}
		if out := t.client.conn.Outbound(); out > e.cfg.PauseAbove || out > 0 && overTotal {
			// A slow reader: leave it unsent; the retry loop tries again
			// once its backlog drained, and netio cuts it off if it never
			// does. Over the total, every reader with a backlog waits:
			// readers that keep up are still served, and the memory
			// queued stays bounded however many clients fall behind.
			pushesPaused.Inc()
			t.client.conn.Refresh()
			continue
		}
		switch {
		case !resend:
			st.attempts = 0
		case lost:
			resendsLost.Inc()
		default:
			resendsBackstop.Inc()
		}
		st.version, st.at = version, now
		st.attempts++
		st.seq = t.client.sendSeq.Add(1)
		g.reserveSent(at, version)
		g.setSent(sub, st)
		if sc == nil {
			sc = sendScratches.Get().(*sendScratch)
			defer sc.release()
		}
		if b, ok := sc.base[t]; !ok || sub.acked < b {
			sc.base[t] = sub.acked
		}
	}
	settled := oldest == version // then no subscriber needed a send either
	if settled {
		g.out = nil // every send acknowledged
	}
	g.mu.Unlock()
	if settled {
		e.markSettled(g)
		en.settled(version)
	} else {
		e.markUnsettled(g)
	}
	if above != 0 {
		// After the sends below (at version, to the others), every
		// subscriber gets the list again above what they hold.
		defer func() {
			if en.raise(above) {
				versionsRaised.Inc()
			}
			e.pushGroup(id)
		}()
	}
	if sc == nil {
		return
	}
	// A subscriber was free: a fetch held for acks (holdFetch) brings it
	// the newest list next.
	e.releaseFetch(en)
	for t, b := range sc.base {
		if t.client.isClosed() {
			continue
		}
		k := frameKey{filter: t.filter, enc: proto.Choose(t.client.Enc), base: b, attrs: t.client.Attrs}
		sc.add(k, t.client.conn)
	}
	for _, fc := range sc.frames {
		k, cs := fc.key, fc.conns
		frame := e.frame(en, k)
		if frame == nil {
			continue
		}
		n, err := e.out.WriteShared(frame, cs)
		if err != nil {
			pushErrors.Inc()
		}
		pushesSent.Add(n)
		pushBytes.Add(n * len(frame))
	}
}

// frame returns the push frame of en's current version for k, building it
// on first use: the full list for one zone filter, or the delta from
// k.base when that version is still known and the delta is the smaller
// frame; with the publishers' attributes for clients that decode them.
// A list without attributes has one frame for both kinds of client.
func (e *Engine) frame(en *entry, k frameKey) []byte {
	en.mu.Lock()
	defer en.mu.Unlock()
	if !en.fetched {
		return nil
	}
	if en.built == nil {
		en.built = &built{frames: make(map[frameKey][]byte)}
	}
	if f, ok := en.built.frames[k]; ok {
		return f
	}
	push := proto.Push{DataInfoID: en.id, Zone: k.filter, Version: en.version,
		WithAttrs: k.attrs, WithDataCenters: k.filter == proto.GlobalZone}
	// Only the frame sent is encoded, and a delta decodes only its changed
	// publishers: the list's count, hash and size are read from the
	// records. A full list of a large service decoded and encoded only to
	// be dropped for a one-entry delta cost as much as the rest.
	var f []byte
	if base, ok := en.past(k.base); ok && !e.cfg.DisableDelta {
		changed, removed, view := deltaOfLists(base, en.pubs, k.filter)
		if f, ok := en.built.twin(k, view.attrs); ok {
			return f
		}
		push.Count, push.Hash = uint32(view.count), view.hash
		delta := push
		delta.BaseVersion, delta.Publishers, delta.Removed = k.base, e.list(changed.decode(), k.filter), removed
		if delta.Size() < push.Size()+view.size { // the full list's size
			f = appendFrame(&delta)
			deltaPushes.Inc()
		}
	}
	if f == nil {
		if en.built.list == nil {
			en.built.list = en.pubs.decode()
		}
		cur := e.list(en.built.list, k.filter)
		if f, ok := en.built.twin(k, proto.HasAttrs(cur)); ok {
			return f
		}
		push.Publishers, push.Count, push.Hash = cur, uint32(len(cur)), proto.ListHash(cur)
		f = appendFrame(&push)
	}
	rawPushBytes.Add(len(f))
	if k.enc != 0 && int64(len(f)) > e.compressAbove.Load() {
		f = proto.AppendCompressed(nil, f, k.enc)
	}
	en.built.frames[k] = f
	return f
}

// twin returns, when the list has no attributes (then neither it nor a
// delta from it carries any), the frame of k built for the other kind of
// client (Client.Attrs), which has the same bytes, and keeps it as k's.
func (b *built) twin(k frameKey, attrs bool) ([]byte, bool) {
	if attrs {
		return nil, false
	}
	t := k
	t.attrs = !k.attrs
	f, ok := b.frames[t]
	if ok {
		b.frames[k] = f
	}
	return f, ok
}

// appendFrame encodes a push in a buffer of its size: frames are kept
// for fan-out and retries, and growing the buffer would both copy and keep
// the spare capacity.
func appendFrame(m *proto.Push) []byte {
	return proto.AppendFrame(make([]byte, 0, proto.HeaderSize+m.Size()), 0, 0, m)
}
