package session

import (
	"context"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/puzpuzpuz/xsync/v3"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/push"
)

// tombstoneTTL is how long an unpublished registration is remembered; a
// publish of it delayed longer than this is not expected.
const tombstoneTTL = 10 * time.Minute

// maxPushBackoff caps the delay between resends of an unacknowledged push.
const maxPushBackoff = 30 * time.Second

type frameKey struct {
	filter string
	enc    proto.Encoding
	base   uint64 // 0: full list; else a delta from this version
}

// historyLen is how many earlier versions of a datum are kept to build
// delta pushes from: a client more than this many versions behind gets the
// full list.
const historyLen = 4

// pastVersion is an earlier version of a datum, for deltas.
type pastVersion struct {
	version uint64
	pubs    []proto.PushPublisher
}

// versionLearned is when the session learned of a version it pushed.
type versionLearned struct {
	version uint64
	at      int64 // unix ns
}

// datumEntry is the session's copy of one datum and the push frames built
// from it: each (version, zone filter, encoding) is encoded and compressed
// once, and the same immutable bytes go to every connection.
type datumEntry struct {
	mu      sync.Mutex
	datum   *proto.Datum // nil until the first fetch; Publishers only for application datums (see own)
	hash    uint64       // datum.Hash(): one version can name two contents across a leader hand-over
	version uint64       // version pushed to clients (never 0)
	// noticed is when the session learned of a change not yet in version
	// (unix ns, 0: none): where the push latency of the next version starts.
	noticed  int64
	want     uint64 // newest version announced and not yet fetched
	gen      uint64 // counts fetch requests, so one arriving mid-fetch is not lost
	fetching bool
	// learned holds when the session learned of version and of those in
	// history, newest first: replaced whole by advance, read without mu by
	// acks on event loops (which must not wait for a frame being built).
	learned atomic.Pointer[[historyLen + 1]versionLearned]
	// settleUntil (unix ns) is when the datum's slot stops settling after
	// its leader rebuilt it from nothing (proto.Datum.SettleMs): until
	// then a returning subscriber keeps the list it holds.
	settleUntil int64
	frames      map[frameKey][]byte
	own         []proto.PushPublisher // the datum's publishers as pushed (all zones)
	pubs        []proto.PushPublisher // own and the application instances serving the datum
	history     []pastVersion         // earlier versions, newest last
}

// advance makes pubs e's list at version, or at the version after e's
// when version is not above it (pushed versions only grow), keeping the
// list it replaces for deltas. e.mu must be held.
func (e *datumEntry) advance(version uint64, pubs []proto.PushPublisher) {
	if version <= e.version {
		version = e.version + 1
	}
	if e.version != 0 {
		e.history = append(e.history, pastVersion{e.version, e.pubs})
		if len(e.history) > historyLen {
			e.history = e.history[1:]
		}
	}
	e.version, e.pubs, e.frames = version, pubs, nil
	var next [historyLen + 1]versionLearned
	if prev := e.learned.Load(); prev != nil {
		copy(next[1:], prev[:historyLen])
	}
	next[0] = versionLearned{version, e.noticed}
	if next[0].at == 0 {
		next[0].at = time.Now().UnixNano()
	}
	e.learned.Store(&next)
	e.noticed = 0
}

// learnedAt is when the session learned of version (the latest or a recent
// one: a slow client acks a version the datum has moved on from), 0 when
// it is not known any more. It takes no lock.
func (e *datumEntry) learnedAt(version uint64) int64 {
	if l := e.learned.Load(); l != nil {
		for _, v := range l {
			if v.version == version {
				return v.at
			}
		}
	}
	return 0
}

// pusher fetches changed datums once and pushes them to subscribers, with
// acknowledgements and retries.
type pusher struct {
	s        *Server
	cache    *xsync.MapOf[string, *datumEntry]
	sem      chan struct{} // bounds concurrent fetches
	debounce *push.Debouncer
	stopped  atomic.Bool       // the cluster-wide push switch, see pushswitch.go
	heldLog  netio.LogThrottle // acks naming a version no registry handed out

	// Groups to push, off the event loops: a replay of many subscribers of
	// one group then costs one pass over the group, not one per subscriber.
	mu      sync.Mutex
	pending map[string]struct{}
	wake    chan struct{}
}

// schedule asks for a push of id's group soon (see pushLoop).
func (p *pusher) schedule(id string) {
	p.mu.Lock()
	p.pending[id] = struct{}{}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// pushLoop pushes the scheduled groups until ctx is done.
func (p *pusher) pushLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		}
		p.mu.Lock()
		batch := p.pending
		p.pending = make(map[string]struct{})
		p.mu.Unlock()
		for id := range batch {
			p.pushGroup(id)
		}
	}
}

func newPusher(s *Server) *pusher {
	p := &pusher{s: s, cache: xsync.NewMapOf[string, *datumEntry](), sem: make(chan struct{}, 64),
		pending: make(map[string]struct{}), wake: make(chan struct{}, 1)}
	p.debounce = push.NewDebouncer(s.cfg.Debounce, s.cfg.MaxDebounce, func(id string, version uint64) {
		p.changed(proto.DatumVersion{DataInfoID: id, Version: version})
	})
	return p
}

func (p *pusher) entry(id string) *datumEntry {
	if e, ok := p.cache.Load(id); ok {
		return e
	}
	// A copy: id may be part of a decoded frame, which the key would keep.
	e, _ := p.cache.LoadOrCompute(strings.Clone(id), func() *datumEntry { return new(datumEntry) })
	return e
}

// changed handles a change notification or a version the leader reported:
// fetch unless the cached datum is that version. A version lower than the
// cached one is fetched too: after a leader hand-over the new leader's
// versions may be below those its predecessor handed out, and ignoring them
// would leave subscribers stale. Clients never see a version go down: the
// pushed version is the session's own (see relist).
func (p *pusher) changed(v proto.DatumVersion) {
	id := v.DataInfoID
	if !p.wanted(id) {
		return // no subscriber here (the interest update is on its way)
	}
	e := p.entry(id)
	e.mu.Lock()
	if e.current(v) {
		e.mu.Unlock()
		return
	}
	e.want = max(e.want, v.Version)
	if e.noticed == 0 {
		e.noticed = time.Now().UnixNano()
	}
	e.gen++
	start := !e.fetching
	e.fetching = true
	e.mu.Unlock()
	if start {
		go p.fetchLoop(id, e)
	}
}

// wanted reports whether a datum has subscribers here or is followed for
// app-level discovery.
func (p *pusher) wanted(id string) bool { return p.s.reg.group(id) != nil || p.s.apps.follows(id) }

// refetch fetches a datum whatever version is cached (after a data node
// reconnects, or when a subscriber may have missed a change).
func (p *pusher) refetch(id string) {
	p.changed(proto.DatumVersion{DataInfoID: id, Version: math.MaxUint64})
}

// current reports whether the cached datum is v: the same version and, when
// v carries one, the same hash. e.mu must be held.
func (e *datumEntry) current(v proto.DatumVersion) bool {
	return e.datum != nil && v.Version == e.datum.Version && (v.Hash == 0 || v.Hash == e.hash)
}

// notified takes a data node's change notice through the debounce. A notice
// of the cached version with another content (a leader hand-over) asks for
// a refetch, which the debounce would otherwise merge into "no change".
func (p *pusher) notified(v proto.DatumVersion) {
	if v.Hash != 0 {
		if e, ok := p.cache.Load(v.DataInfoID); ok {
			e.mu.Lock()
			stale := e.datum != nil && v.Version == e.datum.Version && v.Hash != e.hash
			e.mu.Unlock()
			if stale {
				v.Version = math.MaxUint64
			}
		}
	}
	p.debounce.Add(v.DataInfoID, v.Version)
}

// subscribed pushes what is cached to a new subscriber, or fetches it.
func (p *pusher) subscribed(id string) {
	e := p.entry(id)
	e.mu.Lock()
	cached := e.datum != nil
	e.mu.Unlock()
	if cached {
		p.schedule(id)
		return
	}
	p.refetch(id)
}

// forget drops a datum nobody here subscribes to any more.
func (p *pusher) forget(id string) { p.cache.Delete(id) }

func (p *pusher) fetchLoop(id string, e *datumEntry) {
	ctx := p.s.ctx
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		if !p.wanted(id) {
			e.mu.Lock()
			e.fetching = false
			e.mu.Unlock()
			return
		}
		e.mu.Lock()
		asked := e.gen
		e.mu.Unlock()
		p.sem <- struct{}{}
		d, err := p.s.fetchDatum(ctx, id)
		<-p.sem
		if err != nil {
			fetchErrors.Inc()
			p.s.logThrottled("cannot fetch datum", "dataInfoId", id, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		fetches.Inc()
		e.mu.Lock()
		e.settleUntil = 0
		if d.SettleMs != 0 {
			e.settleUntil = time.Now().Add(time.Duration(d.SettleMs) * time.Millisecond).UnixNano()
		}
		if h := d.Hash(); e.datum == nil || d.Version != e.datum.Version || h != e.hash {
			e.own = p.pushPublishers(d)
			if !strings.HasSuffix(id, "#@#"+proto.AppGroup) {
				// own holds all that is pushed: nothing of the decoded reply
				// is kept. An application datum keeps its publishers for
				// their revisions (appendInstances).
				did := strings.Clone(d.DataInfoID)
				if e.datum != nil && e.datum.DataInfoID == d.DataInfoID {
					did = e.datum.DataInfoID
				}
				d = &proto.Datum{DataInfoID: did, Version: d.Version}
			}
			e.datum, e.hash = d, h
			// The pushed list: d's publishers and those of the applications
			// serving id. Version 0 means "never written": it is pushed as 1
			// so that clients, which take 0 as "nothing received", still see
			// the empty list.
			p.s.apps.relist(id, e, true)
		}
		again := e.gen != asked // a change was announced during the fetch
		if !again {
			e.fetching = false
			e.want = e.datum.Version
		}
		e.mu.Unlock()
		p.pushGroup(id)
		p.s.apps.fetched(id)
		if !again {
			return
		}
	}
}

// pushPublishers returns d's publishers as pushed. The decoded reply also
// holds what pushes do not carry (data info ids, client IPs, attributes):
// nothing of it is kept. The strings of a publisher this session holds at
// the same version are its registry's; the others are copied into one
// string. e.mu is held; the registry's lock is taken after it.
func (p *pusher) pushPublishers(d *proto.Datum) []proto.PushPublisher {
	out := make([]proto.PushPublisher, len(d.Publishers))
	ndata := 0
	for i := range d.Publishers {
		ndata += len(d.Publishers[i].Data)
	}
	data := make([]string, 0, ndata)
	// local[i]: publisher i is taken from the registry.
	local := make([]bool, len(d.Publishers))
	n := 0
	reg := p.s.reg
	reg.mu.RLock()
	for i := range d.Publishers {
		dp := &d.Publishers[i]
		rp, ok := reg.get(regKey{d.DataInfoID, dp.RegisterID})
		if !ok || rp.Version != dp.Version || rp.TS != dp.RegisterTimestamp {
			n += len(dp.RegisterID) + len(dp.Zone)
			for _, s := range dp.Data {
				n += len(s)
			}
			continue
		}
		local[i] = true
		out[i] = proto.PushPublisher{RegisterID: rp.RegisterID(), Zone: rp.Zone(), Version: rp.Version}
		start := len(data)
		data = rp.AppendData(data)
		out[i].Data = data[start:len(data):len(data)]
	}
	reg.mu.RUnlock()
	if n == 0 {
		return out
	}
	var b strings.Builder
	b.Grow(n)
	for i := range d.Publishers {
		if !local[i] {
			dp := &d.Publishers[i]
			b.WriteString(dp.RegisterID)
			b.WriteString(dp.Zone)
			for _, s := range dp.Data {
				b.WriteString(s)
			}
		}
	}
	all := b.String()
	take := func(l int) string {
		s := all[:l]
		all = all[l:]
		return s
	}
	for i := range d.Publishers {
		if local[i] {
			continue
		}
		dp := &d.Publishers[i]
		out[i] = proto.PushPublisher{RegisterID: take(len(dp.RegisterID)), Zone: take(len(dp.Zone)), Version: dp.Version}
		start := len(data)
		for _, s := range dp.Data {
			data = append(data, take(len(s)))
		}
		out[i].Data = data[start:len(data):len(data)]
	}
	return out
}

type pushTarget struct {
	conn   *clientConn
	filter string
}

// pushGroup sends the cached datum to every subscriber of id that has not
// acknowledged it, unless a send is already out and not yet due for retry.
// Subscribers on one connection with one zone filter share one frame, and
// every connection needing the same bytes gets them in one fan-out.
func (p *pusher) pushGroup(id string) {
	if p.stopped.Load() {
		return // pushes stopped cluster-wide; resuming pushes every group
	}
	g := p.s.reg.group(id)
	e, ok := p.cache.Load(id)
	if g == nil || !ok || !p.s.apps.settled(id) {
		return
	}
	e.mu.Lock()
	version := e.version
	cached := e.datum != nil
	fetching := e.fetching
	now := time.Now().UnixNano()
	settling := now < e.settleUntil
	e.mu.Unlock()
	if !cached {
		return
	}
	// above: the newest list a subscriber holds that is at least as new as
	// version, which the session's version must pass (doc.go, Versions).
	var above uint64
	// base: the oldest version acknowledged by the subscribers of a target,
	// which a delta must start from (0 when one has nothing yet).
	// Allocated only when a subscriber needs a push: the retry loop calls
	// this for every group on every tick, and most have nothing to send.
	var base map[pushTarget]uint64
	oldest := version // the oldest version a subscriber acknowledged
	overTotal := p.s.rpc.Outbound() > int64(p.s.cfg.PausePushTotal)
	g.mu.Lock()
	for _, sub := range g.subs {
		oldest = min(oldest, sub.acked)
		if sub.acked >= version {
			continue
		}
		if settling && (sub.returning && sub.acked == 0 || sub.held >= version) {
			// The registry is being rebuilt and the client's list is from
			// before: it keeps it while clients replay.
			continue
		}
		if sub.held >= version {
			// The client would not take this version. Once a fetch
			// confirmed that the data leader has nothing newer either
			// (this session may only be behind), the version goes above it.
			if !fetching {
				above = max(above, sub.held)
			}
			continue
		}
		if sub.sent == version && time.Duration(now-sub.sentAt) < p.retryDelay(sub.attempts) {
			continue
		}
		t := pushTarget{sub.conn, sub.filter()}
		if out := t.conn.c.Outbound(); out > p.s.cfg.PausePushAbove || out > 0 && overTotal {
			// A slow reader: leave it unsent; the retry loop tries again
			// once its backlog drained, and netio cuts it off if it never
			// does. Over the session's total, every reader with a backlog
			// waits: readers that keep up are still served, and the memory
			// queued stays bounded however many clients fall behind.
			pushesPaused.Inc()
			t.conn.c.Refresh()
			continue
		}
		if sub.sent != version {
			sub.attempts = 0
		}
		sub.sent, sub.sentAt = version, now
		sub.attempts++
		if base == nil {
			base = make(map[pushTarget]uint64)
		}
		if b, ok := base[t]; !ok || sub.acked < b {
			base[t] = sub.acked
		}
	}
	settled := oldest == version // then no subscriber needed a send either
	if settled {
		g.settledAt.Store(version)
	}
	g.mu.Unlock()
	if settled {
		e.settled(version)
	}
	if above != 0 {
		// After the sends below (at version, to the others), every
		// subscriber gets the list again above what they hold.
		defer func() {
			if e.raise(above) {
				versionsRaised.Inc()
			}
			p.pushGroup(id)
		}()
	}
	if len(base) == 0 {
		return
	}
	conns := make(map[frameKey][]*netio.Conn)
	for t, b := range base {
		if t.conn.isClosed() {
			continue
		}
		k := frameKey{filter: t.filter, enc: proto.Choose(t.conn.enc), base: b}
		conns[k] = append(conns[k], t.conn.c)
	}
	for k, cs := range conns {
		frame := p.frame(e, k)
		if frame == nil {
			continue
		}
		n, err := p.s.rpc.WriteShared(frame, cs)
		if err != nil {
			pushErrors.Inc()
		}
		pushesSent.Add(n)
		pushBytes.Add(n * len(frame))
	}
}

// settled drops the frames and the earlier versions of e once every
// subscriber acknowledged version: nobody needs a delta, and a subscriber
// that comes later gets the full list, which is built again. Across many
// datums the frames would otherwise hold every list a second time.
func (e *datumEntry) settled(version uint64) {
	e.mu.Lock()
	if e.version == version {
		e.frames, e.history = nil, nil
	}
	e.mu.Unlock()
}

func (p *pusher) retryDelay(attempts uint32) time.Duration {
	d := p.s.cfg.PushRetry
	for i := uint32(1); i < attempts && d < maxPushBackoff; i++ {
		d *= 2
	}
	return min(d, maxPushBackoff)
}

// frame returns the push frame of e's current version for k, building it on
// first use: the full list for one zone filter, or the delta from k.base
// when that version is still known and the delta is the smaller frame.
func (p *pusher) frame(e *datumEntry, k frameKey) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.datum == nil {
		return nil
	}
	if f, ok := e.frames[k]; ok {
		return f
	}
	cur := filterZone(e.pubs, k.filter)
	full := proto.Push{DataInfoID: e.datum.DataInfoID, Zone: k.filter, Version: e.version,
		Publishers: cur, Count: uint32(len(cur)), Hash: proto.ListHash(cur)}
	f := appendFrame(&full)
	if k.base != 0 && !p.s.cfg.DisableDelta {
		for _, h := range e.history {
			if h.version != k.base {
				continue
			}
			changed, removed := push.Delta(filterZone(h.pubs, k.filter), cur)
			delta := full
			delta.BaseVersion, delta.Publishers, delta.Removed = k.base, changed, removed
			if df := appendFrame(&delta); len(df) < len(f) {
				f = df
				deltaPushes.Inc()
			}
			break
		}
	}
	rawPushBytes.Add(len(f))
	if k.enc != 0 && len(f) > p.s.cfg.CompressAbove {
		f = proto.AppendCompressed(nil, f, k.enc)
	}
	if e.frames == nil {
		e.frames = make(map[frameKey][]byte)
	}
	e.frames[k] = f
	return f
}

// appendFrame encodes a push in a buffer of its size: frames are kept
// for fan-out and retries, and growing the buffer would both copy and keep
// the spare capacity.
func appendFrame(m *proto.Push) []byte {
	return proto.AppendFrame(make([]byte, 0, proto.HeaderSize+m.Size()), 0, 0, m)
}

func filterZone(pubs []proto.PushPublisher, zone string) []proto.PushPublisher {
	if zone == "" {
		return pubs
	}
	out := make([]proto.PushPublisher, 0, len(pubs))
	for _, p := range pubs {
		if p.Zone == zone {
			out = append(out, p)
		}
	}
	return out
}

// ack records a client's acknowledgement for its subscribers of one
// dataInfoId and zone filter; Resync asks for a full push again.
func (p *pusher) ack(cc *clientConn, m *proto.PushAck) {
	g := p.s.reg.group(m.DataInfoID)
	if g == nil {
		return
	}
	resync, refetch := false, false
	now := time.Now()
	// Where this version's push latency starts (ack, below).
	var learned int64
	if e, ok := p.cache.Load(m.DataInfoID); ok {
		learned = e.learnedAt(m.Version)
	}
	var firstSent int64 // the latest first push among the subscribers acked now
	acked := false
	held := m.Held != 0 && heldValid(m.Held, now)
	if m.Resync && m.Held != 0 {
		heldAcks.Inc()
		if !held {
			badHeld.Inc()
			p.heldLog.Warn(p.s.log, "ignoring the version a client says it holds: ahead of this session's clock by more than a day",
				"dataInfoId", m.DataInfoID, "held", m.Held, "clientIP", cc.ip)
		}
	}
	g.mu.Lock()
	for sub := g.byConn[cc]; sub != nil; sub = sub.next {
		if sub.filter() != m.Zone {
			continue
		}
		if m.Resync {
			g.settledAt.Store(0)
			if held {
				sub.held, refetch = max(sub.held, m.Held), true
			} else if m.Held != 0 {
				// A version that is no registry's: no new push at once,
				// the retry backoff paces this subscriber's.
				sub.acked = 0
				continue
			}
			sub.acked, sub.sent, resync = 0, 0, true
			continue
		}
		// Only the subscribers the push went to: one that subscribed on this
		// connection after it was sent never got it, and must get its own.
		if m.Version > sub.acked && m.Version <= sub.sent {
			if sub.acked == 0 {
				firstSent = max(firstSent, sub.sentAt)
			}
			sub.acked, acked = m.Version, true
		}
	}
	g.mu.Unlock()
	acks.Inc()
	if acked && learned != 0 {
		push.ObserveLatency(now.Sub(time.Unix(0, max(learned, firstSent))))
	}
	push.ObserveEndToEnd(m.Version, now)
	switch {
	case refetch:
		// The client holds a newer list than this session: the session
		// may be behind the data leader. The fetch's push decides.
		p.refetch(m.DataInfoID)
	case resync:
		p.schedule(m.DataInfoID)
	}
}

// run resends unacknowledged pushes with backoff and restarts fetches that
// gave up, until ctx is done.
func (p *pusher) run(ctx context.Context) {
	t := time.NewTicker(max(p.s.cfg.PushRetry/2, 10*time.Millisecond))
	defer t.Stop()
	var compacted, expired time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if now.Sub(compacted) > time.Minute {
				p.s.reg.compactTombs(now.Add(-tombstoneTTL))
				compacted = now
			}
			if now.Sub(expired) > time.Second {
				p.s.fwd.forgetAcked(now)
				expired = now
			}
		}
		for _, g := range p.s.reg.allGroups() {
			e, ok := p.cache.Load(g.dataInfoID)
			if !ok {
				p.refetch(g.dataInfoID)
				continue
			}
			e.mu.Lock()
			stuck := !e.fetching && (e.datum == nil || e.want > e.datum.Version)
			version := e.version
			e.mu.Unlock()
			if stuck {
				p.refetch(g.dataInfoID)
			}
			if g.settledAt.Load() != version {
				p.pushGroup(g.dataInfoID)
			}
		}
		p.s.apps.repair()
	}
}

// changedAll handles the versions a data node reported.
func (p *pusher) changedAll(vs []proto.DatumVersion) {
	for _, v := range vs {
		p.changed(v)
	}
}
