package metaclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// DefaultInterval is how often an Agent heartbeats unless configured otherwise.
const DefaultInterval = time.Second

// emptyTable is the table of a view before meta sent one.
var emptyTable = func() *slotstore.Table {
	t, err := slotstore.NewTable(&proto.SlotTable{})
	if err != nil {
		panic(err) // an empty table is always valid
	}
	return t
}()

// Config configures an Agent.
type Config struct {
	MetaAddrs []string // meta RPC addresses; any of them, the leader is found by hints
	Role      proto.Role
	// Node names this node; Node.ID must be unique per process (e.g.
	// RPCAddr+"/"+start unix ns), so a restarted node is a new node.
	Node proto.NodeInfo
	// Auth authenticates the links to meta; it must name this node (its
	// role, Node.ID and Node.RPCAddr): meta takes a heartbeat only for the
	// node the link authenticated as.
	Auth     *netio.Auth
	Interval time.Duration // between heartbeats; default DefaultInterval
	Logger   *slog.Logger
	// OnChange is called, from one goroutine and in order, whenever the
	// view changes: table epoch, node lists, meta epoch, meta link or
	// cluster config. It
	// delays the next heartbeat while it runs, so it must be quick.
	OnChange func(View)
	// Synced, when set, is called before every heartbeat (on the same
	// goroutine, so it must be quick) for the slots this data node follows
	// and has caught up on; they go to meta in NodeHeartbeat.Synced.
	Synced func() []uint32
	// OnDrainOrder, when set, is called (on the agent's goroutine, so it
	// must be quick) when an operator's order starts or cancels draining
	// (`roster ctl drain|undrain`); the agent has already changed what its
	// heartbeats say. See SetDraining.
	OnDrainOrder func(drain bool)
	// Load, when set (sessions), is called before every heartbeat (on the
	// same goroutine, so it must be quick) for the session's zone and
	// load, sent in NodeHeartbeat.Load; meta answers with every session's
	// (SessionLoads).
	Load func() proto.SessionLoad
	// DataCenter is the node's --datacenter, sent with every heartbeat:
	// meta refuses a node of another data center. Empty sends none.
	DataCenter string
}

// View is what a node knows of the cluster. Its slices must not be modified.
type View struct {
	MetaEpoch uint64           // lease epoch of the meta leader that answered
	Table     *slotstore.Table // never nil: empty (epoch 0, no slots) until the first table
	Sessions  []proto.NodeInfo // live session nodes
	DataNodes []proto.NodeInfo // live data nodes
	Lease     time.Duration    // node lease granted by meta
	// Since is when the agent began hearing from the current meta leader
	// over the current connection. A leader that just took over learns the
	// nodes as they heartbeat, so the node lists are complete only once
	// Lease has passed since Since: before that a node missing from them
	// may be alive.
	Since time.Time
	// Config is the cluster config (client-off IPs, push switch) meta sent.
	Config NodeConfig
	// Draining lists the IDs of the nodes that are draining: still alive
	// (their publishers and replicas stay), but to be given no new work.
	Draining []string
}

// IsDraining reports whether the node with this ID is draining.
func (v View) IsDraining(id string) bool { return slices.Contains(v.Draining, id) }

// Agent heartbeats to the meta leader and keeps the node's View.
type Agent struct {
	cfg  Config
	log  *slog.Logger
	view atomic.Pointer[View]
	// lastContact is the unix ns of the last reply from the leader.
	lastContact atomic.Int64
	// loads is the sessions' loads of the last reply (loads.go), apart
	// from the view: they change with every heartbeat, and a view change
	// calls OnChange.
	loads atomic.Pointer[SessionLoads]

	// stopping is the node's own draining (SetDraining), ordered an
	// operator's (Config.OnDrainOrder); heartbeats say draining if either holds.
	stopping atomic.Bool
	ordered  atomic.Bool
	// unserving: the node cannot serve its clients (SetServing); its
	// heartbeats say draining meanwhile, so meta leaves it out of the
	// session lists.
	unserving atomic.Bool
	kick      chan struct{} // one slot: heartbeat now

	tableOnce  sync.Once
	tableReady chan struct{} // closed once a table with a slot leader is known

	mu      sync.Mutex
	started bool
	cancel  context.CancelFunc
	done    chan struct{} // closed when the loop has exited
}

// New returns an Agent; it does nothing until Start.
func New(cfg Config) *Agent {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &Agent{
		cfg:        cfg,
		log:        cfg.Logger.With("component", "metaclient"),
		tableReady: make(chan struct{}),
		done:       make(chan struct{}),
		kick:       make(chan struct{}, 1),
	}
	a.view.Store(&View{Table: emptyTable})
	return a
}

// Start validates the configuration and starts heartbeating in the
// background; it does not wait for meta.
func (a *Agent) Start(ctx context.Context) error {
	if len(a.cfg.MetaAddrs) == 0 {
		return fmt.Errorf("cannot start meta agent: %w", ErrNoMetaAddrs)
	}
	if a.cfg.Node.ID == "" || a.cfg.Node.RPCAddr == "" || a.cfg.Role != proto.RoleSession && a.cfg.Role != proto.RoleData {
		return fmt.Errorf("cannot start meta agent: %w", ErrBadNode)
	}
	if a.cfg.Auth == nil {
		return fmt.Errorf("cannot start meta agent: %w", ErrNoAuth)
	}
	if me := a.cfg.Auth.Self(); me == nil || me.Role != a.cfg.Role || me.ID != a.cfg.Node.ID || me.Addr != a.cfg.Node.RPCAddr {
		return fmt.Errorf("cannot start meta agent: %w: it authenticates as %v, not %s %s", ErrBadNode, me, a.cfg.Role, a.cfg.Node.ID)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started {
		return ErrStarted
	}
	a.started = true
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	go a.run(runCtx)
	return nil
}

// Stop stops heartbeating and closes the link to meta; the node's lease then
// runs out at meta. It waits for the loop until ctx ends. It is idempotent.
func (a *Agent) Stop(ctx context.Context) error {
	a.mu.Lock()
	started, cancel := a.started, a.cancel
	a.started = true // a Start after Stop must not run
	a.mu.Unlock()
	if !started || cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-a.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cannot stop meta agent: %w", ctx.Err())
	}
}

// SetDraining marks the node draining on its own account (it is about to
// stop) or clears that mark, and heartbeats at once so meta learns it
// without waiting an interval. An operator's drain order holds independently.
func (a *Agent) SetDraining(on bool) {
	a.stopping.Store(on)
	a.HeartbeatNow()
}

// HeartbeatNow asks for the next heartbeat at once instead of at the next
// interval, e.g. to tell meta soon that a followed slot caught up. Calls
// made while one is pending merge into it.
func (a *Agent) HeartbeatNow() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// Draining reports whether the node's heartbeats say it is draining.
func (a *Agent) Draining() bool {
	return a.stopping.Load() || a.ordered.Load() || a.unserving.Load()
}

// SetServing tells whether the node can serve its clients: a session
// whose client listener failed heartbeats as draining until it serves
// again (meta leaves draining sessions out of the lists clients fetch),
// without starting a drain of its own.
func (a *Agent) SetServing(ok bool) {
	if a.unserving.Swap(!ok) != !ok {
		a.HeartbeatNow()
	}
}

// DrainOrdered reports whether an operator ordered the node to drain.
func (a *Agent) DrainOrdered() bool { return a.ordered.Load() }

// View returns the current view.
func (a *Agent) View() View { return *a.view.Load() }

// LastContact is when the meta leader last answered, zero if never.
func (a *Agent) LastContact() time.Time {
	ns := a.lastContact.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// WaitTable waits until a table with at least one slot leader is known.
func (a *Agent) WaitTable(ctx context.Context) error {
	if a.tableKnown() {
		return nil
	}
	select {
	case <-a.tableReady:
		return nil
	case <-a.done:
		return ErrStopped
	case <-ctx.Done():
		return fmt.Errorf("cannot get a slot table from meta: %w", ctx.Err())
	}
}

// run is the heartbeat loop: one link at a time, to a hinted leader or to
// the next configured address.
func (a *Agent) run(ctx context.Context) {
	defer close(a.done)
	s := metaLink{a: a, next: rand.IntN(len(a.cfg.MetaAddrs))}
	defer s.drop()
	t := time.NewTicker(a.cfg.Interval)
	defer t.Stop()
	soon := min(firstTableWait, a.cfg.Interval)
	for ctx.Err() == nil {
		again := s.beat(ctx)
		if again {
			continue
		}
		// Until a table with a leader is known, the next beat comes soon,
		// backing off to the interval: meta makes the first table when a
		// data node's first heartbeat registers it, so that node learned it
		// led every slot only an interval later, while sessions that had
		// the table sent it a registration burst it refused, then synced
		// the slots with the sessions in the middle of it.
		var early <-chan time.Time
		if !a.tableKnown() {
			early = time.After(soon)
			soon = min(2*soon, a.cfg.Interval)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.kick:
		case <-early:
		}
	}
}

// firstTableWait is the first wait between heartbeats while no table with
// a leader is known; it doubles up to the interval.
const firstTableWait = 25 * time.Millisecond

// tableKnown reports whether a table with a slot leader is known.
func (a *Agent) tableKnown() bool {
	select {
	case <-a.tableReady:
		return true
	default:
		return false
	}
}

// metaLink is the loop's state of its current link to meta.
type metaLink struct {
	a         *Agent
	link      *netio.Link
	since     time.Time // when the current link first got a leader's reply
	next      int       // index of the next configured address to try
	hint      string    // leader address to try next, from a CodeNotLeader
	redirects int       // CodeNotLeader answers in a row without a pause
	failing   bool      // the last attempt failed; later failures log at debug
	maxEpoch  uint64    // highest MetaEpoch seen
}

// maxRedirects bounds the CodeNotLeader answers followed without a pause (at
// least one per configured address), so meta nodes naming each other, or no
// leader at all, cannot spin the loop.
const maxRedirects = 3

// beat sends one heartbeat, connecting first if needed, and applies the
// reply. It reports whether to try again at once (a leader hint to follow).
func (s *metaLink) beat(ctx context.Context) bool {
	a := s.a
	if s.link == nil || s.link.Err() != nil {
		if !s.connect(ctx) {
			return false
		}
	}
	timeout := max(3*a.cfg.Interval, time.Second)
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var reply proto.NodeHeartbeatReply
	hb := &proto.NodeHeartbeat{Role: a.cfg.Role, Node: a.cfg.Node, DataCenter: a.cfg.DataCenter}
	hb.SlotTableEpoch = a.view.Load().Table.Epoch()
	hb.ConfigEpoch = a.view.Load().Config.Epoch
	hb.Draining = a.Draining()
	if a.cfg.Synced != nil {
		hb.Synced = a.cfg.Synced()
	}
	if a.cfg.Load != nil {
		hb.Load = a.cfg.Load()
	}
	err := netio.Call(rctx, s.link, hb, &reply)
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		var res *proto.Result
		if errors.As(err, &res) && res.Code == proto.CodeNotLeader {
			addr := s.link.Addr()
			s.drop()
			if s.redirects >= max(maxRedirects, len(a.cfg.MetaAddrs)+1) {
				s.redirects = 0
				s.fail("no meta node leads", "addr", addr, "hint", res.Hint)
				return false
			}
			// Follow the hint, or else try the next address, at once.
			s.redirects++
			if res.Hint != addr {
				s.hint = res.Hint
			}
			a.log.Debug("meta node does not lead", "addr", addr, "leader", res.Hint)
			return true
		}
		if errors.As(err, &res) && res.Code == proto.CodeUnauthorized {
			// Refused, e.g. a node of another data center: an operator
			// must fix the node's flags; retrying will not help.
			if !s.failing {
				a.log.Error("meta refused this node", "addr", s.link.Addr(), "dataCenter", a.cfg.DataCenter, "why", res.Message)
			}
			s.failing = true
		} else {
			s.fail("cannot heartbeat to meta", "addr", s.link.Addr(), "err", err)
		}
		s.drop()
		return false
	}
	if reply.MetaEpoch < s.maxEpoch {
		// A deposed leader that has not noticed yet: look elsewhere.
		s.fail("ignoring a reply from a deposed meta leader", "addr", s.link.Addr(), "epoch", reply.MetaEpoch, "seen", s.maxEpoch)
		s.drop()
		return false
	}
	epochChanged := reply.MetaEpoch != s.maxEpoch
	s.maxEpoch = reply.MetaEpoch
	if s.failing {
		a.log.Info("meta leader reached", "addr", s.link.Addr(), "epoch", reply.MetaEpoch)
	}
	s.failing = false
	s.redirects = 0
	now := time.Now()
	a.lastContact.Store(now.UnixNano())
	if s.since.IsZero() || epochChanged {
		s.since = now
	}
	a.obey(reply.Order)
	a.apply(&reply, s.since)
	a.applyLoads(&reply, now)
	return false
}

// obey applies an operator's drain order; meta repeats it until a
// heartbeat shows it obeyed, so a lost reply only delays it.
func (a *Agent) obey(o proto.DrainOrder) {
	var on bool
	switch o {
	case proto.DrainStart:
		on = true
	case proto.DrainCancel:
	default:
		return
	}
	if a.ordered.Swap(on) == on {
		return
	}
	a.log.Info("drain order from meta", "drain", on)
	if a.cfg.OnDrainOrder != nil {
		a.cfg.OnDrainOrder(on)
	}
	a.HeartbeatNow()
}

// connect dials the hinted leader or the next configured address.
func (s *metaLink) connect(ctx context.Context) bool {
	a := s.a
	s.drop()
	addr := s.hint
	s.hint = ""
	if addr == "" {
		addr = a.cfg.MetaAddrs[s.next%len(a.cfg.MetaAddrs)]
		s.next++
	}
	dctx, cancel := context.WithTimeout(ctx, max(3*a.cfg.Interval, time.Second))
	defer cancel()
	l, err := netio.DialLink(dctx, addr, netio.LinkConfig{
		RequestTimeout: max(3*a.cfg.Interval, time.Second),
		Logger:         a.cfg.Logger,
		Auth:           a.cfg.Auth,
		PeerRole:       proto.RoleMeta,
	})
	if err != nil {
		if ctx.Err() == nil {
			s.fail("cannot connect to meta", "addr", addr, "err", err)
		}
		return false
	}
	s.link = l
	return true
}

// drop closes the current link; the next leader reply starts a new Since.
func (s *metaLink) drop() {
	if s.link != nil {
		_ = s.link.Close()
		s.link = nil
	}
	s.since = time.Time{}
}

// fail logs a failure at warning level the first time, at debug level while
// failures go on, so an unreachable meta does not flood the log.
func (s *metaLink) fail(msg string, args ...any) {
	if s.failing {
		s.a.log.Debug(msg, args...)
		return
	}
	s.failing = true
	s.a.log.Warn(msg, args...)
}

// apply merges a leader's reply into the view and reports a change.
func (a *Agent) apply(r *proto.NodeHeartbeatReply, since time.Time) {
	old := a.view.Load()
	v := *old
	v.MetaEpoch = r.MetaEpoch
	v.Lease = time.Duration(r.LeaseMs) * time.Millisecond
	v.Since = since
	if r.SlotTable != nil && r.SlotTable.Epoch > v.Table.Epoch() {
		t, err := slotstore.NewTable(r.SlotTable)
		if err != nil {
			a.log.Warn("ignoring an invalid slot table from meta", "epoch", r.SlotTable.Epoch, "err", err)
		} else {
			v.Table = t
		}
	}
	mergeConfig(&v, r)
	// The reply's lists alias its body; keep them only when they changed.
	if !slices.Equal(v.Sessions, r.Sessions) {
		v.Sessions = r.Sessions
	}
	if !slices.Equal(v.DataNodes, r.DataNodes) {
		v.DataNodes = r.DataNodes
	}
	drainingChanged := !slices.Equal(v.Draining, r.Draining)
	if drainingChanged {
		v.Draining = r.Draining
	}
	if v.MetaEpoch == old.MetaEpoch && v.Table == old.Table && v.Lease == old.Lease && v.Since.Equal(old.Since) && v.Config.Epoch == old.Config.Epoch &&
		sameSlice(v.Sessions, old.Sessions) && sameSlice(v.DataNodes, old.DataNodes) && !drainingChanged {
		return
	}
	a.view.Store(&v)
	if v.Table != old.Table {
		a.log.Info("slot table applied", "epoch", v.Table.Epoch())
		if hasLeader(v.Table) {
			a.tableOnce.Do(func() { close(a.tableReady) })
		}
	}
	if a.cfg.OnChange != nil {
		a.cfg.OnChange(v)
	}
}

// sameSlice reports whether a and b are the very same slice.
func sameSlice(a, b []proto.NodeInfo) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func hasLeader(t *slotstore.Table) bool {
	for i := range t.Slots() {
		if t.Leader(uint32(i)) != "" {
			return true
		}
	}
	return false
}
