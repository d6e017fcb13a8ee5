package data

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/roster-registry/roster/internal/acl"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// Bounds of the import from remote data centers.
const (
	// dcMaxPending bounds the dataInfoIds one link has been notified of
	// and not fetched yet; past it the slot of a further one is repaired
	// whole instead.
	dcMaxPending = 1 << 16
	// dcRepairParallel bounds the slots of one link repaired at once.
	dcRepairParallel = 4
	// dcConnectGrace is how long a slot newly led holds its fetches for
	// a stream to its remote leader that is not up yet (dcLink.holding).
	dcConnectGrace = 2 * time.Second
)

// dcImporter imports, for every slot this node leads, the publishers of
// the same slot from each remote data center configured with Sync (meta
// hands the list in the node config: NodeConfig.RemoteDCs). Per remote
// data center a dcLink keeps the remote slot table (polled from the
// remote meta), one stream per remote slot leader (DCWatch: the leader
// sends a ChangeNotify per change of its local publishers, the datums
// named are then fetched with DiffRequest) and a digest repair of every
// slot each RepairInterval and whenever its stream (re)connects or its
// remote leader changes — the follower repair's requests and code
// (differing, fetchDiff).
//
// Imported publishers live in a slotstore.Store per remote data center,
// a sibling of the local store: the store is their origin, so a record
// costs nothing more, and the local store (what followers copy and remote
// data centers import) never holds them: nothing imported is re-exported.
// Siblings issue versions together, so the highest version of a datum over
// them all, the one served, grows with every change of any of them.
type dcImporter struct {
	s *Server

	mu    sync.Mutex
	ctx   context.Context // nil before start and after stop: no new link
	links map[string]*dcLink
	// retired are the stores of links closed, holding only the tombstones
	// of what they imported: versions keep counting them, so the sessions
	// that held an imported publisher see the datum's next version above
	// it and refetch. At most proto.MaxRemoteDCs, the oldest go first.
	retired []*slotstore.Store
	// stores counts links and retired stores: with none (no linked data
	// center), fetches and version answers skip the importer in one load.
	stores atomic.Int32
	wg     sync.WaitGroup
}

func newDCImporter(s *Server) *dcImporter { return &dcImporter{s: s, links: make(map[string]*dcLink)} }

// countedLocked updates stores; im.mu must be held.
func (im *dcImporter) countedLocked() { im.stores.Store(int32(len(im.links) + len(im.retired))) }

// idle reports whether nothing was ever imported or is being imported.
func (im *dcImporter) idle() bool { return im.stores.Load() == 0 }

func (im *dcImporter) start(ctx context.Context) {
	im.mu.Lock()
	im.ctx = ctx
	im.mu.Unlock()
}

// stop ends every link and waits for them.
func (im *dcImporter) stop() {
	im.mu.Lock()
	im.ctx = nil
	for name, l := range im.links {
		l.cancel()
		delete(im.links, name)
	}
	im.countedLocked()
	im.mu.Unlock()
	im.wg.Wait()
}

// configure makes the links match remotes: a data center no longer listed,
// or with Sync off, is unlinked and what was imported from it dropped
// (sessions are notified); a new one is linked; the others take the new
// settings.
func (im *dcImporter) configure(remotes []proto.RemoteDC) {
	want := make(map[string]proto.RemoteDC, len(remotes))
	for _, r := range remotes {
		if r.Validate() != nil || r.Name == im.s.cfg.DataCenter || !r.Sync {
			continue
		}
		want[r.Name] = r
	}
	// An unlinked data center's imports are dropped while its link is
	// still listed, so the versions served grow with the content dropped
	// (a fetch meanwhile sees either); only then is the link removed and
	// its store, tombstones alone, retired.
	var gone []*dcLink
	im.mu.Lock()
	for name, l := range im.links {
		if _, ok := want[name]; !ok {
			l.cancel()
			gone = append(gone, l)
		}
	}
	im.mu.Unlock()
	for _, l := range gone {
		l.dropAll()
	}
	im.mu.Lock()
	defer im.mu.Unlock()
	defer im.countedLocked()
	for _, l := range gone {
		delete(im.links, l.name)
		im.retireLocked(l.store)
	}
	if im.ctx == nil {
		return
	}
	for name, r := range want {
		if l := im.links[name]; l != nil {
			l.setConfig(r)
			continue
		}
		l := newDCLink(im, r)
		im.links[name] = l
		im.s.dcLinkMetrics(name)
		ctx, cancel := context.WithCancel(im.ctx)
		l.ctx, l.cancel = ctx, cancel
		im.wg.Add(1)
		go func() {
			defer im.wg.Done()
			l.run(ctx)
		}()
	}
}

// retireLocked keeps the versions of a closed link's store (see retired).
func (im *dcImporter) retireLocked(st *slotstore.Store) {
	if len(im.retired) >= proto.MaxRemoteDCs {
		im.retired = slices.Delete(im.retired, 0, 1)
	}
	im.retired = append(im.retired, st)
}

// version returns the highest version of dataInfoID over the retired stores.
func (im *dcImporter) version(dataInfoID string) uint64 {
	im.mu.Lock()
	retired := im.retired
	im.mu.Unlock()
	var v uint64
	for _, st := range retired {
		v = max(v, st.Version(dataInfoID))
	}
	return v
}

// compact compacts the tombstones of the imported stores, and forgets the
// retired stores left empty.
func (im *dcImporter) compact(olderThan time.Time) {
	for _, l := range im.snapshot() {
		l.store.CompactTombstones(olderThan)
	}
	im.mu.Lock()
	defer im.mu.Unlock()
	defer im.countedLocked()
	im.retired = slices.DeleteFunc(im.retired, func(st *slotstore.Store) bool {
		st.CompactTombstones(olderThan)
		return st.Tombstones() == 0 && st.Count() == 0
	})
}

// snapshot returns the links, sorted by name.
func (im *dcImporter) snapshot() []*dcLink {
	im.mu.Lock()
	out := slices.Collect(maps.Values(im.links))
	im.mu.Unlock()
	slices.SortFunc(out, func(a, b *dcLink) int { return strings.Compare(a.name, b.name) })
	return out
}

// datumInto writes into b's buffers (a pool's: fetch answers) the datum of
// dataInfoID as served: the local publishers and,
// with remote, those imported by data center, at the highest version of
// the local and imported stores (Server.current). The version is read
// before the publishers: a change stored while they are read, here or in
// an imported store, has a higher one (slotstore.Store.Sibling), so the
// session holding this version is told of it. Read after them, it could be
// the version of an import stored after a local write the publishers read
// missed.
func (s *Server) datumInto(b *datumBuf, dataInfoID string, remote bool) {
	if s.dci.idle() {
		s.store.DatumInto(&b.d, dataInfoID, &b.data)
		return
	}
	v := s.current(dataInfoID).Version
	s.store.DatumInto(&b.d, dataInfoID, &b.data)
	b.d.Version = v
	if !remote {
		return
	}
	for _, l := range s.dci.snapshot() {
		if !l.config().PushRemote {
			continue
		}
		if pubs := l.store.Datum(dataInfoID).Publishers; len(pubs) > 0 {
			b.d.Remote = append(b.d.Remote, proto.DCPublishers{DataCenter: l.name, Publishers: pubs})
		}
	}
}

// holding reports whether a fetch of slot with remote publishers must wait:
// a link has not compared the slot with its remote leader since this node
// came to lead it, for at most dcLink.holdFor.
func (im *dcImporter) holding(slot uint32, now time.Time) bool {
	if im.idle() {
		return false
	}
	for _, l := range im.snapshot() {
		if l.config().PushRemote && l.holding(slot, now) {
			return true
		}
	}
	return false
}

// current is Store.Current of dataInfoID over the local store and the
// imported ones that push here: the highest version, the hashes combined.
func (s *Server) current(dataInfoID string) proto.DatumVersion {
	cur := s.store.Current(dataInfoID)
	if s.dci.idle() {
		return cur
	}
	cur.Version = max(cur.Version, s.dci.version(dataInfoID))
	for _, l := range s.dci.snapshot() {
		if !l.config().PushRemote {
			continue
		}
		c := l.store.Current(dataInfoID)
		cur.Version = max(cur.Version, c.Version)
		cur.Hash ^= c.Hash
	}
	return cur
}

// dcLink imports from one remote data center.
type dcLink struct {
	im     *dcImporter
	s      *Server
	name   string
	cfg    atomic.Pointer[proto.RemoteDC]
	store  *slotstore.Store // the publishers imported from name
	meta   *netio.Client    // to the remote meta nodes
	ctx    context.Context  // the link's; ends when it is unlinked
	cancel context.CancelFunc
	wake   chan struct{} // one slot: notified ids, or a slot to repair

	table atomic.Pointer[slotstore.Table] // the remote slot table; nil before the first

	mu       sync.Mutex
	slots    map[uint32]*dcSlot   // the slots this node leads
	streams  map[string]*dcStream // by remote leader
	pending  map[string]struct{}  // ids notified changed, not fetched yet
	metaUp   bool                 // the last table fetch succeeded
	repairs  atomic.Int64         // slot repairs done
	repaired atomic.Int64         // datums changed by repairs
	applied  atomic.Int64         // unix ns of the newest change applied; 0 before
	lastRep  atomic.Int64         // unix ns of the end of the last repair; 0 before
	log      *netio.LogThrottle
}

// dcSlot is the import of one slot led here.
type dcSlot struct {
	leader string    // the remote slot leader imported from, "" if none known
	since  time.Time // when this node took the slot (or the link started)
	ready  bool      // compared with leader since this node took the slot
	due    bool      // to repair at the next round
	lastOK time.Time // the last repair, or the stream, known good; zero before
	next   time.Time // when the next periodic repair is due
	gone   bool      // dropped after the keep time; repaired back when reachable
}

// dcStream is the link to one remote slot leader: DCWatch of the slots
// imported from it, its ChangeNotify frames, and the repair requests.
type dcStream struct {
	addr   string
	client *netio.Client
	slots  []uint32    // watched; guarded by dcLink.mu
	up     atomic.Bool // the current link holds the watch of slots
}

func newDCLink(im *dcImporter, r proto.RemoteDC) *dcLink {
	s := im.s
	l := &dcLink{
		im: im, s: s, name: r.Name, store: s.store.Sibling(),
		wake:    make(chan struct{}, 1),
		slots:   make(map[uint32]*dcSlot),
		streams: make(map[string]*dcStream),
		pending: make(map[string]struct{}),
		log:     &netio.LogThrottle{Every: logEvery},
	}
	l.cfg.Store(&r)
	l.meta = netio.NewClient(netio.ClientConfig{
		Addrs: slices.Clone(r.MetaAddrs),
		Link: netio.LinkConfig{
			RequestTimeout:    peerRequestTimeout,
			HeartbeatInterval: s.cfg.IdleTimeout / 3,
			Logger:            s.cfg.Logger,
			Auth:              s.auth,
			PeerRole:          proto.RoleMeta,
		},
		BackoffMin: 50 * time.Millisecond,
		BackoffMax: 2 * time.Second,
	})
	return l
}

func (l *dcLink) config() proto.RemoteDC { return *l.cfg.Load() }

// setConfig takes new settings. Changed filters take effect at the next
// repair of each slot, which is made due at once.
func (l *dcLink) setConfig(r proto.RemoteDC) {
	old := l.cfg.Swap(&r)
	if slices.Equal(old.Allow, r.Allow) && slices.Equal(old.Deny, r.Deny) && old.PushRemote == r.PushRemote {
		return
	}
	l.mu.Lock()
	for _, sl := range l.slots {
		sl.due = true
	}
	l.mu.Unlock()
	l.poke()
}

func (l *dcLink) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// allowed applies the link's filters: Deny wins over Allow, an empty
// Allow allows everything. A pattern with "#@#" matches the whole
// dataInfoId, any other its dataId.
func (l *dcLink) allowed(dataInfoID string) bool {
	cfg := l.cfg.Load()
	dataID, _, _ := strings.Cut(dataInfoID, "#@#")
	match := func(pats []string) bool {
		for _, p := range pats {
			if strings.Contains(p, "#@#") && acl.Match(p, dataInfoID) || !strings.Contains(p, "#@#") && acl.Match(p, dataID) {
				return true
			}
		}
		return false
	}
	return !match(cfg.Deny) && (len(cfg.Allow) == 0 || match(cfg.Allow))
}

func (l *dcLink) run(ctx context.Context) {
	defer l.close()
	startClient(l.meta)
	poll := l.s.cfg.HeartbeatInterval
	timer := time.NewTimer(0)
	defer timer.Stop()
	lastPoll := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-l.wake:
		}
		now := time.Now()
		if now.Sub(lastPoll) >= poll {
			lastPoll = now
			l.fetchTable(ctx)
		}
		l.reconcile(now)
		l.fetchPending(ctx)
		l.repairDue(ctx, time.Now())
		l.expire(time.Now())
		timer.Reset(poll)
	}
}

// close stops the streams and the meta link (the link is gone, its Sync
// turned off, or the node stops).
func (l *dcLink) close() {
	l.mu.Lock()
	streams := l.streams
	l.streams = nil
	l.mu.Unlock()
	for _, st := range streams {
		_ = st.client.Stop()
	}
	_ = l.meta.Stop()
	// An import that landed after configure dropped the rest (the link was
	// still running): dropped too, now that nothing more comes.
	l.dropAll()
}

// dropAll drops every import of the link and notifies the sessions.
func (l *dcLink) dropAll() {
	var changes []proto.DatumVersion
	for slot := range uint32(l.store.Slots()) {
		changes = append(changes, l.dropSlot(slot)...)
	}
	if len(changes) > 0 && l.config().PushRemote {
		l.s.notifySessions(l.s.currents(changes))
	}
}

// fetchTable asks the remote meta for its slot table.
func (l *dcLink) fetchTable(ctx context.Context) {
	var known uint64
	if t := l.table.Load(); t != nil {
		known = t.Epoch()
	}
	rctx, cancel := context.WithTimeout(ctx, peerRequestTimeout)
	defer cancel()
	var pt proto.SlotTable
	err := netio.Call(rctx, l.meta, &proto.DCSlotTableFetch{DataCenter: l.s.cfg.DataCenter, KnownEpoch: known}, &pt)
	var res *proto.Result
	if errors.As(err, &res) && res.Code == proto.CodeNotLeader && res.Hint != "" {
		if lk := l.meta.Link(); lk != nil {
			l.meta.Redirect(lk, res.Hint)
		}
	}
	l.mu.Lock()
	l.metaUp = err == nil
	l.mu.Unlock()
	if err != nil {
		if ctx.Err() == nil {
			l.log.Warn(l.s.log, "cannot fetch a remote data center's slot table", "dc", l.name, "err", err)
		}
		return
	}
	if pt.Epoch == 0 || pt.Epoch == known {
		return // unchanged
	}
	t, err := slotstore.NewTable(&pt)
	if err == nil && t.Slots() != l.s.cfg.Slots {
		l.log.Warn(l.s.log, "a remote data center has another slot count: not importing", "dc", l.name, "slots", t.Slots(), "local", l.s.cfg.Slots)
		return
	}
	if err != nil {
		l.log.Warn(l.s.log, "bad slot table from a remote data center", "dc", l.name, "err", err)
		return
	}
	l.table.Store(t)
}

// reconcile makes the slots and streams match the local table (the slots
// led here) and the remote one (their remote leaders).
func (l *dcLink) reconcile(now time.Time) {
	local, remote := l.s.table.Load(), l.table.Load()
	var led []uint32
	if local != nil {
		led = local.SlotsLedBy(l.s.name)
	}
	want := make(map[string][]uint32)
	var dropped []uint32
	l.mu.Lock()
	if l.streams == nil {
		l.mu.Unlock()
		return // closing
	}
	isLed := make(map[uint32]bool, len(led))
	for _, slot := range led {
		isLed[slot] = true
		sl := l.slots[slot]
		if sl == nil {
			sl = &dcSlot{since: now, due: true}
			l.slots[slot] = sl
		}
		leader := ""
		if remote != nil {
			leader = remote.Leader(slot)
		}
		if leader != sl.leader {
			sl.leader, sl.due = leader, true
		}
		if leader != "" {
			want[leader] = append(want[leader], slot)
		}
	}
	for slot := range l.slots {
		if !isLed[slot] {
			delete(l.slots, slot)
			dropped = append(dropped, slot)
		}
	}
	var stop []*dcStream
	for addr, st := range l.streams {
		if _, ok := want[addr]; !ok {
			delete(l.streams, addr)
			stop = append(stop, st)
		}
	}
	var rewatch []*dcStream
	for addr, slots := range want {
		st := l.streams[addr]
		if st == nil {
			st = l.newStream(addr)
			l.streams[addr] = st
			st.slots = slots
			continue
		}
		if !slices.Equal(st.slots, slots) {
			st.slots = slots
			rewatch = append(rewatch, st)
		}
	}
	l.mu.Unlock()
	for _, st := range stop {
		_ = st.client.Stop()
	}
	// Another node leads these now and imports them itself; it serves the
	// fetches, so no session needs a notify from here.
	for _, slot := range dropped {
		l.store.DropSlot(slot)
	}
	for _, st := range rewatch {
		l.sendWatch(st)
	}
}

// newStream starts the stream from the remote slot leader addr. l.mu must
// be held.
func (l *dcLink) newStream(addr string) *dcStream {
	st := &dcStream{addr: addr}
	s := l.s
	st.client = netio.NewClient(netio.ClientConfig{
		Addrs: []string{addr},
		Link: netio.LinkConfig{
			RequestTimeout:    peerRequestTimeout,
			HeartbeatInterval: s.cfg.IdleTimeout / 3,
			MaxOutbound:       peerMaxOutbound,
			Logger:            s.cfg.Logger,
			Auth:              s.auth,
			PeerRole:          proto.RoleData,
			Handler:           func(_ *netio.Link, f netio.Frame) { l.onNotify(f) },
		},
		OnConnect: func(ctx context.Context, lk *netio.Link) error {
			l.mu.Lock()
			slots := slices.Clone(st.slots)
			l.mu.Unlock()
			if err := netio.Call(ctx, lk, &proto.DCWatch{DataCenter: s.cfg.DataCenter, Slots: slots}, &proto.Result{}); err != nil {
				return err
			}
			st.up.Store(true)
			// Changes made while no stream was up were not sent: compare.
			l.markDue(slots)
			return nil
		},
		OnDisconnect: func(error) { st.up.Store(false) },
		BackoffMin:   50 * time.Millisecond,
		BackoffMax:   2 * time.Second,
	})
	startClient(st.client)
	return st
}

// startClient starts c connecting in the background: Start with a context
// already ended returns at once, the client keeps trying until Stop.
func startClient(c *netio.Client) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = c.Start(ctx)
}

// sendWatch tells a connected stream its new set of slots; a stream not
// connected sends it when it connects.
func (l *dcLink) sendWatch(st *dcStream) {
	lk := st.client.Link()
	if lk == nil {
		return
	}
	l.mu.Lock()
	slots := slices.Clone(st.slots)
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), peerRequestTimeout)
	defer cancel()
	if err := netio.Call(ctx, lk, &proto.DCWatch{DataCenter: l.s.cfg.DataCenter, Slots: slots}, &proto.Result{}); err != nil {
		l.log.Warn(l.s.log, "cannot change the slots streamed from a remote slot leader", "dc", l.name, "leader", st.addr, "err", err)
		lk.Close() // reconnects, and watches on connect
		return
	}
	l.markDue(slots)
}

func (l *dcLink) markDue(slots []uint32) {
	l.mu.Lock()
	for _, slot := range slots {
		if sl := l.slots[slot]; sl != nil {
			sl.due = true
		}
	}
	l.mu.Unlock()
	l.poke()
}

// onNotify takes a remote leader's ChangeNotify, on the stream's read
// goroutine: it only records what to fetch.
func (l *dcLink) onNotify(f netio.Frame) {
	if f.Header.Type != proto.TypeChangeNotify || f.Header.Flags&proto.FlagReply != 0 {
		return
	}
	var m proto.ChangeNotify
	if err := f.Decode(&m); err != nil {
		l.log.Warn(l.s.log, "bad change notify from a remote slot leader", "dc", l.name, "err", err)
		return
	}
	var overflow []uint32
	l.mu.Lock()
	for _, c := range m.Changes {
		if c.DataInfoID == "" || len(c.DataInfoID) > proto.MaxIDLen {
			continue
		}
		if cur := l.store.Current(c.DataInfoID); c.Hash != 0 && cur.Hash == c.Hash {
			continue // a version bump (leader change): same publishers
		}
		if _, ok := l.pending[c.DataInfoID]; ok {
			continue
		}
		if len(l.pending) >= dcMaxPending {
			overflow = append(overflow, l.store.SlotOf(c.DataInfoID))
			continue
		}
		l.pending[strings.Clone(c.DataInfoID)] = struct{}{}
	}
	for _, slot := range overflow {
		if sl := l.slots[slot]; sl != nil {
			sl.due = true
		}
	}
	l.mu.Unlock()
	l.poke()
}

// fetchPending fetches the datums notified changed from their slots'
// remote leaders.
func (l *dcLink) fetchPending(ctx context.Context) {
	l.mu.Lock()
	if len(l.pending) == 0 {
		l.mu.Unlock()
		return
	}
	// A notify does not say how many publishers a datum has: each counts
	// as one toward a DiffRequest's bound (nextDiffChunk).
	bySlot := make(map[uint32][]proto.DigestEntry)
	for id := range l.pending {
		slot := l.store.SlotOf(id)
		if sl := l.slots[slot]; sl != nil && sl.leader != "" {
			bySlot[slot] = append(bySlot[slot], proto.DigestEntry{DataInfoID: id})
		}
	}
	clear(l.pending)
	clients := make(map[uint32]*dcStream, len(bySlot))
	for slot := range bySlot {
		clients[slot] = l.streams[l.slots[slot].leader]
	}
	l.mu.Unlock()
	for slot, want := range bySlot {
		st := clients[slot]
		if st == nil {
			continue
		}
		err := fetchDiff(ctx, st.client, slot, "", want, func(id string, pubs []proto.Publisher, _ []string) {
			l.apply(id, pubs)
		})
		if err != nil {
			// What failed is compared at the slot's repair, made due now.
			l.markDue([]uint32{slot})
		}
	}
}

// repairDue repairs the slots that are due: a new leader, a stream that
// (re)connected, a changed filter, or RepairInterval since the last.
func (l *dcLink) repairDue(ctx context.Context, now time.Time) {
	type job struct {
		slot uint32
		st   *dcStream
	}
	var jobs []job
	l.mu.Lock()
	for slot, sl := range l.slots {
		if sl.leader == "" || !(sl.due || now.After(sl.next)) {
			continue
		}
		if st := l.streams[sl.leader]; st != nil {
			jobs = append(jobs, job{slot, st})
		}
	}
	l.mu.Unlock()
	var g errgroup.Group
	g.SetLimit(dcRepairParallel)
	for _, j := range jobs {
		g.Go(func() error {
			err := l.repairSlot(ctx, j.slot, j.st)
			end := time.Now()
			l.mu.Lock()
			if sl := l.slots[j.slot]; sl != nil && sl.leader == j.st.addr {
				sl.next = end.Add(l.s.cfg.RepairInterval)
				if err == nil {
					sl.ready, sl.due, sl.lastOK, sl.gone = true, false, end, false
				}
			}
			l.mu.Unlock()
			if err == nil {
				l.lastRep.Store(end.UnixNano())
			} else if ctx.Err() == nil {
				l.log.Warn(l.s.log, "cannot repair a slot from a remote data center", "dc", l.name, "slot", j.slot, "leader", j.st.addr, "err", err)
			}
			return nil
		})
	}
	_ = g.Wait()
}

// repairSlot makes the import of slot equal to what its remote leader
// holds, filtered: the datums whose digest entries differ are fetched
// whole. Unchanged datums are neither fetched nor notified, so a link
// that comes back after a partition pushes only what changed meanwhile.
func (l *dcLink) repairSlot(ctx context.Context, slot uint32, st *dcStream) error {
	rctx, cancel := context.WithTimeout(ctx, peerRequestTimeout)
	defer cancel()
	var dg proto.SlotDigest
	if err := netio.Call(rctx, st.client, &proto.DigestRequest{Slot: slot}, &dg); err != nil {
		return err
	}
	theirs := dg.Entries[:0]
	for _, e := range dg.Entries {
		if l.allowed(e.DataInfoID) {
			theirs = append(theirs, e)
		}
	}
	want := differing(theirs, l.store.Digest(slot, ""), slot, l.s.cfg.Slots)
	l.repairs.Add(1)
	if len(want) == 0 {
		return nil
	}
	return fetchDiff(ctx, st.client, slot, "", want, func(id string, pubs []proto.Publisher, _ []string) {
		if l.apply(id, pubs) {
			l.repaired.Add(1)
		}
	})
}

// apply makes the imported publishers of id exactly pubs (none when the
// filters refuse id), and notifies the sessions when they changed. It
// reports whether they did.
func (l *dcLink) apply(id string, pubs []proto.Publisher) bool {
	if !l.allowed(id) {
		pubs = nil
	}
	s := l.s
	if _, changed := l.store.ReplaceDatum(id, pubs, nil); !changed {
		return false
	}
	l.applied.Store(time.Now().UnixNano())
	if l.config().PushRemote {
		s.notifySessions([]proto.DatumVersion{s.current(id)})
	}
	return true
}

// expire drops the slots whose remote leader has been unreachable (no
// stream up, no repair done) for longer than DCKeep: their publishers were
// kept as last known until then, never flapped. A repair brings them back.
func (l *dcLink) expire(now time.Time) {
	keep := l.s.cfg.DCKeep
	var drop []uint32
	l.mu.Lock()
	for slot, sl := range l.slots {
		st := l.streams[sl.leader]
		if st != nil && st.up.Load() && sl.ready {
			sl.lastOK = now
			continue
		}
		last := sl.lastOK
		if last.IsZero() {
			last = sl.since
		}
		if !sl.gone && now.Sub(last) > keep {
			sl.gone, sl.ready = true, false
			drop = append(drop, slot)
		}
	}
	l.mu.Unlock()
	for _, slot := range drop {
		changes := l.dropSlot(slot)
		l.s.log.Warn("remote data center unreachable past --dc-keep: dropped what was imported of a slot", "dc", l.name, "slot", slot, "datums", len(changes))
		if l.config().PushRemote {
			l.s.notifySessions(l.s.currents(changes))
		}
	}
}

// dropSlot removes every imported publisher of slot (leaving tombstones,
// so versions keep growing) and returns the changed datums.
func (l *dcLink) dropSlot(slot uint32) []proto.DatumVersion {
	var out []proto.DatumVersion
	for _, id := range l.store.DataInfoIDs(slot) {
		if v, changed := l.store.ReplaceDatum(id, nil, nil); changed {
			out = append(out, v)
		}
	}
	return out
}

// holding reports whether a fetch with remote publishers of slot must
// wait for this link's first repair of it (see dcImporter.holding).
func (l *dcLink) holding(slot uint32, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	sl := l.slots[slot]
	noTable := l.table.Load() == nil
	if sl == nil {
		// Not reconciled yet (the next link round does): the slot was just
		// taken, or the link is new and its first remote table to come.
		return noTable || l.metaUp
	}
	if sl.leader == "" && noTable && !sl.ready && !sl.gone {
		// No remote table yet (a node just started: the first fetch may
		// have found a meta node that does not lead, and is retried every
		// heartbeat): as for a stream just started. A remote data center
		// that is down holds no longer.
		return now.Sub(sl.since) < dcConnectGrace
	}
	if sl.ready || sl.gone || sl.leader == "" || now.Sub(sl.since) > l.holdFor() {
		return false
	}
	// Only while the remote leader can answer soon: its stream is up, or
	// was just started. A remote data center that is down (or of another
	// slot count: no leader) holds nothing.
	st := l.streams[sl.leader]
	return st != nil && (st.up.Load() || now.Sub(sl.since) < dcConnectGrace)
}

// holdFor bounds how long a slot newly led here holds fetches with remote
// publishers for its first repair: a repair round and two request
// timeouts (the first attempt's and a retry's), and never past --dc-keep.
// Every subscriber of the slot waits meanwhile, so a remote data center
// that does not answer must not hold it longer.
func (l *dcLink) holdFor() time.Duration {
	return min(l.s.cfg.DCKeep, 2*peerRequestTimeout+l.s.cfg.RepairInterval)
}

// currents returns the current versions of the changed datums.
func (s *Server) currents(changes []proto.DatumVersion) []proto.DatumVersion {
	out := make([]proto.DatumVersion, 0, len(changes))
	for _, c := range changes {
		out = append(out, s.current(c.DataInfoID))
	}
	return out
}

// status reports the link for GET /api/dc/status.
func (l *dcLink) status(now time.Time) proto.DCImportStatus {
	out := proto.DCImportStatus{Name: l.name, Publishers: int64(l.store.Count())}
	l.mu.Lock()
	out.SlotsLed = len(l.slots)
	var oldest time.Time
	for _, sl := range l.slots {
		if st := l.streams[sl.leader]; st != nil && st.up.Load() {
			out.SlotsImporting++
		} else if last := sl.lastOK; !last.IsZero() && (oldest.IsZero() || last.Before(oldest)) {
			oldest = last
		}
	}
	l.mu.Unlock()
	out.LinkUp = out.SlotsLed > 0 && out.SlotsImporting == out.SlotsLed
	if !out.LinkUp && !oldest.IsZero() {
		out.StaleMillis = now.Sub(oldest).Milliseconds()
	}
	if a := l.applied.Load(); a > 0 {
		out.LagMillis = now.Sub(time.Unix(0, a)).Milliseconds()
	}
	if r := l.lastRep.Load(); r > 0 {
		out.LastRepair = time.Unix(0, r).UTC().Format(time.RFC3339Nano)
	}
	return out
}
