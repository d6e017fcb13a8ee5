package session

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/puzpuzpuz/xsync/v3"
	"github.com/roster-registry/roster/proto"
)

// tombstoneTTL is how long an unpublished registration is remembered; a
// publish of it delayed longer than this is not expected.
const tombstoneTTL = 10 * time.Minute

// maxPushBackoff caps the delay between resends of an unacknowledged push.
const maxPushBackoff = 30 * time.Second

type frameKey struct {
	filter string
	enc    proto.Encoding
}

// datumEntry is the session's copy of one datum and the push frames built
// from it: each (version, zone filter, encoding) is encoded and compressed
// once, and the same immutable bytes go to every connection.
type datumEntry struct {
	mu       sync.Mutex
	datum    *proto.Datum // nil until the first fetch
	version  uint64       // version pushed to clients (never 0)
	want     uint64       // newest version announced and not yet fetched
	gen      uint64       // counts fetch requests, so one arriving mid-fetch is not lost
	fetching bool
	frames   map[frameKey][]byte
}

// pusher fetches changed datums once and pushes them to subscribers, with
// acknowledgements and retries.
type pusher struct {
	s     *Server
	cache *xsync.MapOf[string, *datumEntry]
	sem   chan struct{} // bounds concurrent fetches
}

func newPusher(s *Server) *pusher {
	return &pusher{s: s, cache: xsync.NewMapOf[string, *datumEntry](), sem: make(chan struct{}, 64)}
}

func (p *pusher) entry(id string) *datumEntry {
	e, _ := p.cache.LoadOrCompute(id, func() *datumEntry { return new(datumEntry) })
	return e
}

// changed handles a change notification: fetch unless already as new.
func (p *pusher) changed(id string, version uint64) {
	if p.s.reg.group(id) == nil {
		return // no subscriber here (the interest update is on its way)
	}
	e := p.entry(id)
	e.mu.Lock()
	if e.datum != nil && version <= e.datum.Version {
		e.mu.Unlock()
		return
	}
	e.want = max(e.want, version)
	e.gen++
	start := !e.fetching
	e.fetching = true
	e.mu.Unlock()
	if start {
		go p.fetchLoop(id, e)
	}
}

// refetch fetches a datum whatever version is cached (after a data node
// reconnects, or when a subscriber may have missed a change).
func (p *pusher) refetch(id string) { p.changed(id, math.MaxUint64) }

// subscribed pushes what is cached to a new subscriber, or fetches it.
func (p *pusher) subscribed(id string) {
	e := p.entry(id)
	e.mu.Lock()
	cached := e.datum != nil
	e.mu.Unlock()
	if cached {
		p.pushGroup(id)
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
		if p.s.reg.group(id) == nil {
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
		if e.datum == nil || d.Version >= e.datum.Version {
			e.datum = d
			// Version 0 means "never written": push it as 1 so that clients,
			// which take 0 as "nothing received", still see the empty list.
			e.version = max(d.Version, 1)
			e.frames = nil
		}
		again := e.gen != asked // a change was announced during the fetch
		if !again {
			e.fetching = false
			e.want = e.datum.Version
		}
		e.mu.Unlock()
		p.pushGroup(id)
		if !again {
			return
		}
	}
}

type pushTarget struct {
	conn   *clientConn
	filter string
}

// pushGroup sends the cached datum to every subscriber of id that has not
// acknowledged it, unless a send is already out and not yet due for retry.
// Subscribers on one connection with one zone filter share one frame.
func (p *pusher) pushGroup(id string) {
	g := p.s.reg.group(id)
	e, ok := p.cache.Load(id)
	if g == nil || !ok {
		return
	}
	e.mu.Lock()
	version := e.version
	cached := e.datum != nil
	e.mu.Unlock()
	if !cached {
		return
	}
	now := time.Now()
	var targets []pushTarget
	seen := make(map[pushTarget]bool)
	g.mu.Lock()
	for _, sub := range g.subs {
		if sub.acked >= version {
			continue
		}
		if sub.sent == version && now.Sub(sub.sentAt) < p.retryDelay(sub.attempts) {
			continue
		}
		if sub.sent != version {
			sub.attempts = 0
		}
		sub.sent, sub.sentAt = version, now
		sub.attempts++
		t := pushTarget{sub.conn, sub.filter()}
		if !seen[t] {
			seen[t] = true
			targets = append(targets, t)
		}
	}
	g.mu.Unlock()
	for _, t := range targets {
		if t.conn.isClosed() {
			continue
		}
		frame := p.frame(e, t.filter, proto.Choose(t.conn.enc))
		if frame == nil {
			continue
		}
		if err := t.conn.c.WriteFrame(frame); err != nil {
			pushErrors.Inc()
			continue
		}
		pushesSent.Inc()
		pushBytes.Add(len(frame))
	}
}

func (p *pusher) retryDelay(attempts int) time.Duration {
	d := p.s.cfg.PushRetry
	for i := 1; i < attempts && d < maxPushBackoff; i++ {
		d *= 2
	}
	return min(d, maxPushBackoff)
}

// frame returns the push frame of e's datum for one zone filter and
// encoding, building it on first use.
func (p *pusher) frame(e *datumEntry, filter string, enc proto.Encoding) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.datum == nil {
		return nil
	}
	k := frameKey{filter, enc}
	if f, ok := e.frames[k]; ok {
		return f
	}
	m := proto.Push{DataInfoID: e.datum.DataInfoID, Zone: filter, Version: e.version}
	for i := range e.datum.Publishers {
		pub := &e.datum.Publishers[i]
		if filter != "" && pub.Zone != filter {
			continue
		}
		m.Publishers = append(m.Publishers, proto.PushPublisher{RegisterID: pub.RegisterID, Zone: pub.Zone, Version: pub.Version, Data: pub.Data})
	}
	m.Count, m.Hash = uint32(len(m.Publishers)), proto.ListHash(m.Publishers)
	f := proto.AppendFrame(nil, 0, 0, &m)
	if enc != 0 && len(f) > p.s.cfg.CompressAbove {
		f = proto.AppendCompressed(nil, f, enc)
	}
	if e.frames == nil {
		e.frames = make(map[frameKey][]byte)
	}
	e.frames[k] = f
	return f
}

// ack records a client's acknowledgement for its subscribers of one
// dataInfoId and zone filter; Resync asks for a full push again.
func (p *pusher) ack(cc *clientConn, m *proto.PushAck) {
	g := p.s.reg.group(m.DataInfoID)
	if g == nil {
		return
	}
	resync := false
	g.mu.Lock()
	for _, sub := range g.subs {
		if sub.conn != cc || sub.filter() != m.Zone {
			continue
		}
		if m.Resync {
			sub.acked, sub.sent, resync = 0, 0, true
			continue
		}
		if m.Version > sub.acked {
			sub.acked = m.Version
		}
	}
	g.mu.Unlock()
	acks.Inc()
	if resync {
		p.pushGroup(m.DataInfoID)
	}
}

// run resends unacknowledged pushes with backoff and restarts fetches that
// gave up, until ctx is done.
func (p *pusher) run(ctx context.Context) {
	t := time.NewTicker(max(p.s.cfg.PushRetry/2, 10*time.Millisecond))
	defer t.Stop()
	var compacted time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if now.Sub(compacted) > time.Minute {
				p.s.reg.compactTombs(now.Add(-tombstoneTTL))
				compacted = now
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
			e.mu.Unlock()
			if stuck {
				p.refetch(g.dataInfoID)
			}
			p.pushGroup(g.dataInfoID)
		}
	}
}

// resyncAll refetches every subscribed datum (after a data link reconnects:
// changes may have been missed while it was down).
func (p *pusher) resyncAll() {
	for _, id := range p.s.reg.subscribedIDs() {
		p.refetch(id)
	}
}
