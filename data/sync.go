package data

import (
	"context"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// syncParallel bounds the sessions synced with at once.
const syncParallel = 8

// syncer holds the session syncs waiting for the sync goroutine: slots this
// node was promoted to lead, and sessions that said hello.
type syncer struct {
	mu       sync.Mutex
	promoted map[uint32]uint64 // slot -> the leader epoch it was promoted at
	hellos   map[string]struct{}
	wake     chan struct{} // one slot
}

func newSyncer() *syncer {
	return &syncer{promoted: make(map[uint32]uint64), hellos: make(map[string]struct{}), wake: make(chan struct{}, 1)}
}

func (y *syncer) promote(slot uint32, leaderEpoch uint64) {
	y.mu.Lock()
	y.promoted[slot] = leaderEpoch
	y.mu.Unlock()
	y.signal()
}

func (y *syncer) hello(id string) {
	y.mu.Lock()
	y.hellos[id] = struct{}{}
	y.mu.Unlock()
	y.signal()
}

func (y *syncer) signal() {
	select {
	case y.wake <- struct{}{}:
	default:
	}
}

func (y *syncer) take() (map[uint32]uint64, map[string]struct{}) {
	y.mu.Lock()
	defer y.mu.Unlock()
	p, h := y.promoted, y.hellos
	y.promoted, y.hellos = make(map[uint32]uint64), make(map[string]struct{})
	return p, h
}

// syncLoop runs promotion syncs first (they decide when a slot is healthy),
// then the syncs of sessions that said hello.
func (s *Server) syncLoop(ctx context.Context) {
	defer s.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.syncer.wake:
		}
		promoted, hellos := s.syncer.take()
		s.syncPromoted(ctx, promoted)
		s.syncHellos(ctx, hellos)
	}
}

// syncPromoted makes newly led slots healthy: each is compared with every
// connected session (sessions are the source of truth: what the old leader
// never streamed here comes back, what a session no longer has goes), then
// every datum of the slot gets a version above any the old leader handed
// out, and interested sessions are notified so subscribers are re-pushed.
// The store's versions already start above those it holds (the old
// leader's, as far as they reached here). Writes and fetches are served
// meanwhile; versions decide.
func (s *Server) syncPromoted(ctx context.Context, promoted map[uint32]uint64) {
	if len(promoted) == 0 {
		return
	}
	slots := make([]uint32, 0, len(promoted))
	for slot := range promoted {
		slots = append(slots, slot)
	}
	slices.Sort(slots)
	start := time.Now()
	done := 0
	for _, slot := range slots {
		epoch := promoted[slot]
		if !s.leadsAt(slot, epoch) {
			continue
		}
		s.syncSlot(ctx, slot, s.conns.targets(), false)
		if ctx.Err() != nil {
			return
		}
		if !s.leadsAt(slot, epoch) {
			continue
		}
		s.notify(s.store.BumpSlot(slot))
		s.slots.markHealthy(slot, epoch, s.cfg.ReplayWindow)
		done++
	}
	if done > 0 {
		s.log.Info("led slots synced with the sessions", "slots", done, "took", time.Since(start))
	}
}

// syncHellos syncs every slot led here with each session that said hello.
func (s *Server) syncHellos(ctx context.Context, hellos map[string]struct{}) {
	var targets []target
	for id := range hellos {
		if sc := s.conns.get(id); sc != nil {
			targets = append(targets, target{id: id, sc: sc})
		}
	}
	t := s.table.Load()
	if len(targets) == 0 || t == nil {
		return
	}
	led := t.SlotsLedBy(s.name)
	eachParallel(ctx, targets, func(tg target) {
		for _, slot := range led {
			if ctx.Err() != nil {
				return
			}
			s.syncSession(ctx, slot, tg, true)
		}
	})
}

// antiEntropyLoop compares every slot led here with every connected
// session once per SyncInterval, one slot after another spread over the
// interval, so the cost is one DigestRequest per (slot, session) per round.
func (s *Server) antiEntropyLoop(ctx context.Context) {
	defer s.wg.Done()
	interval := s.cfg.SyncInterval
	for {
		var led []uint32
		if t := s.table.Load(); t != nil {
			led = t.SlotsLedBy(s.name)
		}
		if len(led) == 0 {
			if !sleepCtx(ctx, interval) {
				return
			}
			continue
		}
		pace := interval / time.Duration(len(led))
		for _, slot := range led {
			if !sleepCtx(ctx, pace) {
				return
			}
			// A syncing slot is being compared by its promotion already.
			if s.leads(slot) && s.slots.healthy(slot) {
				s.syncSlot(ctx, slot, s.conns.targets(), true)
			}
		}
	}
}

// syncSlot compares slot with each of targets, a few at a time.
func (s *Server) syncSlot(ctx context.Context, slot uint32, targets []target, notify bool) {
	eachParallel(ctx, targets, func(tg target) { s.syncSession(ctx, slot, tg, notify) })
}

// syncSession compares what session tg owns in slot here with what it
// holds, and makes this node's copy equal: its publishers are put (newer
// wins) and those it no longer has are removed. With notify set, the
// changed datums are notified at once.
func (s *Server) syncSession(ctx context.Context, slot uint32, tg target, notify bool) {
	rctx, cancel := context.WithTimeout(ctx, peerRequestTimeout)
	defer cancel()
	var epoch uint64
	if t := s.table.Load(); t != nil {
		epoch = t.Epoch()
	}
	// The sum of what tg owns here goes with the request: a session whose
	// own sum is equal answers Same, and neither side walks a publisher.
	// A write in flight either way makes them differ, and the digests
	// below are compared as before.
	req := proto.DigestRequest{Slot: slot, SessionID: tg.id, SlotTableEpoch: epoch, HasSum: true, Sum: s.store.Sum(slot, tg.id)}
	var dg proto.SlotDigest
	err := netio.Call(rctx, tg.sc.c, &req, &dg)
	var changes []proto.DatumVersion
	if err == nil && dg.Same {
		s.m.sessionSyncsSame.Inc()
	} else if err == nil {
		if want := differing(dg.Entries, s.store.Digest(slot, tg.id), slot, s.cfg.Slots); len(want) > 0 {
			// What the session owns here before it is asked: only that may
			// be dropped for its answer. A write it makes after answering
			// can reach this node first (the write is applied on arrival,
			// the answer once this goroutine runs): dropping it would lose
			// a publisher the session holds, for good.
			held := s.store.Held(slot, tg.id, diffIDs(want))
			err = fetchDiff(ctx, tg.sc.c, slot, tg.id, want, func(id string, pubs []proto.Publisher, _ []string) {
				if v, changed := s.store.ReplaceOwned(tg.id, id, pubs, held[id]); changed {
					changes = append(changes, v)
				}
			})
		}
	}
	s.m.sessionSyncs.Inc()
	s.m.sessionRepaired.Add(len(changes))
	if len(changes) > 0 {
		s.log.Debug("repaired datums from a session", "session", tg.id, "slot", slot, "datums", len(changes))
		if notify && s.leads(slot) {
			s.notify(changes)
		}
	}
	if err != nil && ctx.Err() == nil {
		s.m.syncErrors.Inc()
		s.syncLog.Warn(s.log, "cannot sync a slot with a session", "session", tg.id, "slot", slot, "err", err)
	}
}

// eachParallel calls fn for every item, at most syncParallel at once, and
// waits for them; it starts no more once ctx ends.
func eachParallel[T any](ctx context.Context, items []T, fn func(T)) {
	var g errgroup.Group
	g.SetLimit(syncParallel)
	for _, it := range items {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			fn(it)
			return nil
		})
	}
	_ = g.Wait() // fn returns no error
}

// sleepCtx waits d and reports false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// leads reports whether this node leads slot in its table.
func (s *Server) leads(slot uint32) bool {
	t := s.table.Load()
	return t != nil && t.Leader(slot) == s.name
}

// leadsAt reports whether this node leads slot at leaderEpoch.
func (s *Server) leadsAt(slot uint32, leaderEpoch uint64) bool {
	t := s.table.Load()
	return t != nil && t.Leader(slot) == s.name && t.LeaderEpoch(slot) == leaderEpoch
}

// leadsID reports whether this node leads the slot of dataInfoID.
func (s *Server) leadsID(dataInfoID string) bool {
	t := s.table.Load()
	return t != nil && t.LeaderOf(dataInfoID) == s.name
}
