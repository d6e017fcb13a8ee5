package data

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/metaclient"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/slotstore"
)

// Server is one data node. Create it with New, then Start and Stop it once.
type Server struct {
	cfg   Config
	log   *slog.Logger
	store *slotstore.Store
	rpc   *netio.Server
	auth  *netio.Auth
	// serving is rpc.Serving (whether the node port accepts connections,
	// for health); tests replace it.
	serving func() error
	http    *opshttp.Server
	m       *serverMetrics

	// name is the advertised RPC address, this node's name in the slot
	// table. Start sets it after listening, so a frame may arrive first:
	// handlers read it only once they loaded a non-nil table, which the
	// agent stores after Start set name (the atomic orders the two).
	name  string
	agent *metaclient.Agent // set by Start before the janitor runs

	table    atomic.Pointer[slotstore.Table] // nil until meta sends one
	interest interestIndex
	sessions *sessionTracker
	wake     chan struct{} // one slot: a new view for the janitor

	conns      sessionConns // session id -> its connection, for requests to it
	slots      *slotStates
	peers      *peerPool
	syncer     *syncer
	repairWake chan struct{} // one slot: a new table (or followed slots unsynced): repair over
	dcw        *dcWatchers   // remote data centers' slot leaders importing from here
	dci        *dcImporter   // the import from remote data centers
	scans      scanQueue     // digest and diff requests waiting for a worker (scans.go)
	// remoteDCs picks the linked data centers from a view: the node
	// config's; tests replace it before Start.
	remoteDCs func(metaclient.View) []proto.RemoteDC

	// One line per logEvery for failures repeated per peer or slot.
	replicaLog, repairLog, syncLog netio.LogThrottle
	reapLog                        netio.LogThrottle // gone sessions still heard (reapSessions)
	refuse                         netio.Refuser     // requests a node may not make
	refusedLog                     netio.LogThrottle // writes refused for their owner or version
	interestLog                    netio.LogThrottle // Interests refused for the connection's limit

	// stopping is set once Stop begins: the node no longer reaps gone
	// sessions (reapSessions).
	stopping atomic.Bool

	mu      sync.Mutex // guards started, stopped, cancel
	started bool
	stopped bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New validates cfg and returns a Server that is not started.
func New(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, fmt.Errorf("cannot create data server: %w", err)
	}
	st, err := slotstore.NewStore(cfg.Slots)
	if err != nil {
		return nil, fmt.Errorf("cannot create data server: %w", err)
	}
	auth, err := netio.NewAuth(cfg.Credentials, proto.RoleData)
	if err != nil {
		return nil, fmt.Errorf("cannot create data server: %w", err)
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger.With("role", "data"),
		auth:     auth,
		store:    st,
		interest: newInterestIndex(),
		sessions: newSessionTracker(),
		wake:     make(chan struct{}, 1),

		conns:      newSessionConns(),
		slots:      newSlotStates(),
		syncer:     newSyncer(),
		repairWake: make(chan struct{}, 1),
		scans:      newScanQueue(),
	}
	s.replicaLog.Every, s.repairLog.Every, s.syncLog.Every, s.reapLog.Every = logEvery, logEvery, logEvery, logEvery
	s.refuse = netio.Refuser{Metric: "roster_data_unauthorized_total", Logger: s.log}
	s.peers = newPeerPool(s)
	s.dcw = newDCWatchers()
	s.dci = newDCImporter(s)
	s.remoteDCs = func(v metaclient.View) []proto.RemoteDC { return v.Config.RemoteDCs }
	s.m = newServerMetrics(s)
	maxConns, maxPerIP := netio.NodeConnCaps()
	s.rpc = netio.NewServer(netio.ServerConfig{
		Name:          "data",
		Addr:          cfg.RPCAddr,
		IdleTimeout:   cfg.IdleTimeout,
		MaxOutbound:   rpcMaxOutbound,
		Logger:        cfg.Logger,
		Auth:          auth,
		MaxConns:      maxConns,
		MaxConnsPerIP: maxPerIP,
	}, rpcHandler{s})
	s.serving = s.rpc.Serving
	s.http = opshttp.New(cfg.HTTPAddr, s.health, cfg.Logger)
	s.http.SetRole("data")
	s.http.SetAdmin(cfg.Admin)
	s.adminRoutes()
	s.http.HandleRead("GET /digest/datum/query", s.handleDatum)
	s.http.HandleRead("GET /digest/slot/status", s.handleSlotStatus)
	s.http.HandleRead("GET /api/dc/status", s.handleDCStatus)
	return s, nil
}

// Start listens on the RPC and HTTP addresses and starts heartbeating to
// meta. It does not wait for a slot table; /health/check reports it.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return ErrStarted
	}
	s.started = true
	if err := s.rpc.Start(ctx); err != nil {
		return fmt.Errorf("cannot start data server: %w", err)
	}
	if err := s.http.Start(ctx); err != nil {
		_ = s.rpc.Stop(context.Background())
		return fmt.Errorf("cannot start data server: %w", err)
	}
	s.name = s.cfg.AdvertiseAddr
	if s.name == "" {
		s.name = metaclient.AdvertiseOn(s.cfg.AdvertiseHost, s.rpc.Addr())
	}
	self := proto.NodeInfo{
		ID:       s.name + "/" + strconv.FormatInt(time.Now().UnixNano(), 10),
		RPCAddr:  s.name,
		HTTPAddr: metaclient.AdvertiseOn(s.cfg.AdvertiseHost, s.http.Addr()),
	}
	if err := s.auth.SetSelf(self.ID, self.RPCAddr); err != nil {
		_ = s.http.Stop(context.Background())
		_ = s.rpc.Stop(context.Background())
		return fmt.Errorf("cannot start data server: %w", err)
	}
	s.agent = metaclient.New(metaclient.Config{
		MetaAddrs: s.cfg.MetaAddrs,
		Role:      proto.RoleData,
		Node:      self,
		Auth:      s.auth,
		Interval:  s.cfg.HeartbeatInterval,
		Logger:    s.cfg.Logger,
		OnChange:  s.onView,
		Synced:    s.syncedSlots,
		// Meta refuses a node of another data center.
		DataCenter: s.cfg.DataCenter,
		OnDrainOrder: func(on bool) {
			s.log.Info("drain order from an operator", "drain", on)
		},
	})
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.peers.start(runCtx)
	s.dci.start(runCtx)
	if err := s.agent.Start(runCtx); err != nil {
		cancel()
		_ = s.http.Stop(context.Background())
		_ = s.rpc.Stop(context.Background())
		return fmt.Errorf("cannot start data server: %w", err)
	}
	s.cancel = cancel
	metrics.RegisterSet(s.m.set)
	s.wg.Add(4 + scanWorkers)
	for range scanWorkers {
		go func() {
			defer s.wg.Done()
			s.scans.run(runCtx)
		}()
	}
	go s.janitor(runCtx)
	go s.syncLoop(runCtx)
	go s.antiEntropyLoop(runCtx)
	go s.repairLoop(runCtx)
	s.log.Info("data server started", "rpc", s.rpc.Addr(), "advertise", s.name, "http", s.http.Addr())
	return nil
}

// Stop stops heartbeating to meta and closes every connection. It is idempotent.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel == nil || s.stopped {
		return nil // not started, or Start failed and cleaned up
	}
	s.stopped = true
	s.stopping.Store(true)
	if s.cfg.DrainTimeout > 0 {
		s.drain(ctx, s.cfg.DrainTimeout)
	}
	var errs []error
	errs = append(errs, s.agent.Stop(ctx))
	s.cancel()
	s.wg.Wait()
	s.dci.stop()
	s.peers.closeAll()
	errs = append(errs, s.rpc.Stop(ctx))
	errs = append(errs, s.http.Stop(ctx))
	metrics.UnregisterSet(s.m.set, true)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cannot stop data server cleanly: %w", err)
	}
	return nil
}

// RPCAddr is the address the RPC server listens on (after Start).
func (s *Server) RPCAddr() string { return s.rpc.Addr() }

// HTTPAddr is the address the HTTP server listens on (after Start).
func (s *Server) HTTPAddr() string { return s.http.Addr() }

// Name is the address this node is known by in the slot table (after Start).
func (s *Server) Name() string { return s.name }

// Store is the node's publisher store.
func (s *Server) Store() *slotstore.Store { return s.store }

// Table is the slot table the node holds, nil before the first.
func (s *Server) Table() *slotstore.Table { return s.table.Load() }

// onView takes a new view from the agent (on its goroutine): the table is
// swapped at once, the rest goes to the janitor.
func (s *Server) onView(v metaclient.View) {
	defer s.dci.configure(s.remoteDCs(v))
	if t := v.Table; t.Epoch() > 0 {
		if t.Slots() != s.cfg.Slots {
			s.log.Error("ignoring a slot table of another slot count", "epoch", t.Epoch(), "slots", t.Slots(), "configured", s.cfg.Slots)
		} else if cur := s.table.Load(); cur == nil || t.Epoch() > cur.Epoch() {
			s.table.Store(t)
			s.log.Info("slot table changed", "epoch", t.Epoch(), "leads", len(t.SlotsLedBy(s.name)), "follows", len(t.SlotsFollowedBy(s.name)))
			promoted := s.slots.apply(t, s.name)
			for _, slot := range promoted {
				s.syncer.promote(slot, t.LeaderEpoch(slot))
			}
			// The repair round under way walks the old table: start over.
			select {
			case s.repairWake <- struct{}{}:
			default:
			}
		}
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// health is ok once the node holds a slot table and its node port accepts
// connections (not when out of descriptors, say). Slots still syncing are
// served meanwhile, so they show in the detail only.
func (s *Server) health() (bool, any) {
	if err := s.serving(); err != nil {
		return false, map[string]any{"listener": err.Error()}
	}
	t := s.table.Load()
	if t == nil {
		return false, map[string]any{"reason": "no slot table yet"}
	}
	healthy, syncing, synced, unsynced := s.slots.counts()
	return true, map[string]any{
		"slotTableEpoch": t.Epoch(), "leads": len(t.SlotsLedBy(s.name)), "publishers": s.store.Count(),
		"ledHealthy": healthy, "ledSyncing": syncing, "followedSynced": synced, "followedUnsynced": unsynced,
		"draining": s.agent.Draining(),
	}
}
