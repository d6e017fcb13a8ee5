package meta

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/catalog"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/meta/store"
	"github.com/roster-registry/roster/metaclient"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// Server is one meta node. Create it with New, then Start and Stop it once.
type Server struct {
	cfg  Config
	log  *slog.Logger
	rpc  *netio.Server
	auth *netio.Auth
	// serving is rpc.Serving (whether the node port accepts connections,
	// for health); tests replace it.
	serving func() error
	refuse  netio.Refuser // requests a node may not make
	http    *opshttp.Server
	m       *serverMetrics
	persist *persister
	catalog *catalog.Fanout // catalog.go

	// owner is the advertised RPC address, set by Start under mu; it never
	// changes after, so the goroutines Start launches read it without mu.
	owner string
	// httpAdvertise is the advertised HTTP address, set like owner.
	httpAdvertise string

	mu         sync.Mutex // see the package doc for what it guards
	leading    bool       // holds the store lease, at least until deadline
	deadline   time.Time  // local monotonic end of the lease; stop acting after it
	lapsed     bool       // the deadline passed while leading; logged once
	leaseEpoch uint64
	lease      store.Lease // as last read from the store
	// leaderAddrs is what the leader of lease.Epoch recorded of its
	// addresses, as a follower read it (leaderaddr.go).
	leaderAddrs leaderAddrs
	graceUntil  time.Time // no node is removed before this
	graceOver   bool
	presumed    []string // data nodes presumed alive during the grace period
	// firstTableAt is when a new cluster's first table may be issued
	// (Config.FirstTableWait after the first data node's heartbeat).
	firstTableAt time.Time
	reg          registry
	table        *proto.SlotTable // current table; never modified once set
	// saved is the newest table of this leadership known stored (or the
	// one loaded at take-over): the only one handed to nodes. A table
	// handed out unsaved could be lost with this leader, and its epoch
	// issued again by the next one with other contents; nodes take only
	// a higher epoch, so they would keep two tables of one epoch.
	saved     *proto.SlotTable
	slotSince []uint64 // per slot, the table epoch its replicas last changed at
	// maxNodeEpoch is the highest table epoch a node reported; the next
	// table is issued above it.
	maxNodeEpoch uint64
	ncfg         nodeConfigs // client-off list and push switch; see nodeconfig.go
	// drainOrders are operators' drain orders not obeyed yet, by node ID
	// (drain.go); created on first use.
	drainOrders map[string]proto.DrainOrder

	apps appIndex // app-level discovery metadata; its own lock (apps.go)

	watch watchState // the watched config; its own locks (watchconfig.go)

	stateMu sync.Mutex // guards started, stopped and cancel; taken before mu if both
	started bool
	stopped bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New validates cfg and returns a Server that is not started.
func New(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, fmt.Errorf("cannot create meta server: %w", err)
	}
	auth, err := netio.NewAuth(cfg.Credentials, proto.RoleMeta)
	if err != nil {
		return nil, fmt.Errorf("cannot create meta server: %w", err)
	}
	s := &Server{
		cfg:  cfg,
		log:  cfg.Logger.With("role", "meta"),
		reg:  newRegistry(),
		auth: auth,
	}
	s.refuse = netio.Refuser{Metric: "roster_meta_unauthorized_total", Logger: s.log}
	s.m = newServerMetrics(s)
	s.cfg.Store = newTimedStore(cfg.Store, s.m.set)
	s.persist = newPersister(s.cfg.Store, s.log, s.m, s.tableSaved)
	maxConns, maxPerIP := netio.NodeConnCaps()
	s.rpc = netio.NewServer(netio.ServerConfig{
		Name:          "meta",
		Addr:          cfg.RPCAddr,
		IdleTimeout:   3 * cfg.NodeLease,
		Logger:        cfg.Logger,
		Auth:          auth,
		MaxConns:      maxConns,
		MaxConnsPerIP: maxPerIP,
	}, rpcHandler{s})
	s.serving = s.rpc.Serving
	s.http = opshttp.New(cfg.HTTPAddr, s.health, cfg.Logger)
	s.http.SetRole("meta")
	s.http.SetAdmin(cfg.Admin)
	s.routes()
	s.adminRoutes()
	s.drainRoutes()
	s.catalogRoutes()
	s.consoleRoutes()
	return s, nil
}

// Start listens on the RPC and HTTP addresses, makes a first attempt at the
// leader lease and starts the background loops. It does not wait to lead.
func (s *Server) Start(ctx context.Context) error {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if s.started {
		return ErrStarted
	}
	s.started = true
	if err := s.rpc.Start(ctx); err != nil {
		return fmt.Errorf("cannot start meta server: %w", err)
	}
	owner := s.cfg.AdvertiseAddr
	if owner == "" {
		owner = metaclient.AdvertiseOn(s.cfg.AdvertiseHost, s.rpc.Addr())
	}
	if err := s.auth.SetSelf(owner+"/"+strconv.FormatInt(time.Now().UnixNano(), 36), owner); err != nil {
		_ = s.rpc.Stop(context.Background())
		return fmt.Errorf("cannot start meta server: %w", err)
	}
	// Under mu: a node may already be heartbeating, and replies read owner.
	s.mu.Lock()
	s.owner = owner
	s.mu.Unlock()
	if err := s.http.Start(ctx); err != nil {
		_ = s.rpc.Stop(context.Background())
		return fmt.Errorf("cannot start meta server: %w", err)
	}
	s.mu.Lock()
	s.httpAdvertise = metaclient.AdvertiseOn(s.cfg.AdvertiseHost, s.http.Addr())
	s.mu.Unlock()
	metrics.RegisterSet(s.m.set)

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.campaign(ctx)
	s.wg.Add(4)
	go s.leaseLoop(runCtx)
	go s.sweepLoop(runCtx)
	go s.appCleanLoop(runCtx)
	go func() {
		defer s.wg.Done()
		s.persist.run(runCtx)
	}()
	s.log.Info("meta server started", "rpc", s.rpc.Addr(), "advertise", s.owner, "http", s.http.Addr())
	return nil
}

// Stop steps down (saving the last table and releasing the lease, so another
// meta node can lead at once) and stops the servers. It is idempotent.
func (s *Server) Stop(ctx context.Context) error {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if s.cancel == nil || s.stopped {
		return nil // not started, or Start failed and cleaned up
	}
	s.stopped = true
	s.cancel()
	s.wg.Wait()

	s.mu.Lock()
	wasLeader := s.leading
	s.stepDownLocked("stopping")
	s.mu.Unlock()

	var errs []error
	if wasLeader {
		errs = append(errs, s.persist.flush(ctx))
		errs = append(errs, s.cfg.Store.Release(ctx, LeaderLeaseName, s.owner))
	}
	errs = append(errs, s.rpc.Stop(ctx))
	s.apps.serving.Wait() // the RPC server is stopped: no frame starts another
	errs = append(errs, s.http.Stop(ctx))
	metrics.UnregisterSet(s.m.set, true)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cannot stop meta server cleanly: %w", err)
	}
	return nil
}

// RPCAddr is the address the RPC server listens on (after Start).
func (s *Server) RPCAddr() string { return s.rpc.Addr() }

// HTTPAddr is the address the HTTP server listens on (after Start).
func (s *Server) HTTPAddr() string { return s.http.Addr() }

// AdvertiseAddr is the address this node is known by: lease owner and hint.
func (s *Server) AdvertiseAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.owner
}

// IsLeader reports whether this node leads now.
func (s *Server) IsLeader() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isLeaderLocked(time.Now())
}

// SlotTable returns the last table this node issued or loaded as leader, nil
// when there is none or it does not lead (any more). It must not be modified.
func (s *Server) SlotTable() *proto.SlotTable {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.table
}

// isLeaderLocked reports whether this node may act as leader at now. s.mu must be held.
func (s *Server) isLeaderLocked(now time.Time) bool {
	return s.leading && now.Before(s.deadline)
}

// leaderHintLocked returns the address of the leader for a CodeNotLeader
// answer, "" when unknown or when it is this node (whose lease lapsed): the
// node then tries another meta address. s.mu must be held.
func (s *Server) leaderHintLocked() string {
	if s.lease.Active() && s.lease.Owner != s.owner {
		return s.lease.Owner
	}
	return ""
}
