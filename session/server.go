package session

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
	"github.com/roster-registry/roster/push"
	"github.com/roster-registry/roster/slotstore"
)

// Server is a session node.
type Server struct {
	cfg  Config
	log  *slog.Logger
	node atomic.Pointer[proto.NodeInfo] // set once listening; its ID is unique per process (data nodes own publishers by it)

	reg      *registry
	fwd      *forwarder
	links    *links
	interest *interest
	push     *push.Engine
	apps     *appState
	config   *configCopy // the watched config (watch.go)
	drain    drainState  // drain.go
	limits   *admission
	auth     *authState                     // auth.go
	blocked  atomic.Pointer[blacklist]      // blacklist.go; nil until meta sent the config
	gate     atomic.Pointer[pushGate]       // pushgate.go; nil: nobody held back
	zoneOff  zoneOffState                   // zoneoff.go
	switches atomic.Pointer[[]proto.Switch] // switches.go: the last meta sent
	gauges   *metrics.Set                   // gauges.go; registered while running
	clock    atomic.Int64                   // last RegisterTimestamp handed out
	// tempInflight counts temporary publications waiting for their slot
	// leader (temporary.go).
	tempInflight atomic.Int64
	left         leftState // servers.go: clients that moved away

	rpc      *netio.Server
	nodeAuth *netio.Auth // this session to meta and the data nodes
	http     *opshttp.Server
	agent    atomic.Pointer[metaclient.Agent] // set in Start, after the listener is up

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	warnLog  netio.LogThrottles // logThrottled: one throttle per message
	refusals refusalLogs        // owner.go
}

// New returns a session node; Start runs it.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if len(cfg.MetaAddrs) == 0 {
		return nil, fmt.Errorf("cannot create session: no meta address: %w", ErrInvalid)
	}
	if cfg.Slots&(cfg.Slots-1) != 0 {
		return nil, fmt.Errorf("cannot create session: %d slots is not a power of two: %w", cfg.Slots, ErrInvalid)
	}
	if err := proto.ValidateDataCenterName(cfg.DataCenter); err != nil {
		return nil, fmt.Errorf("cannot create session: %w: %w", err, ErrInvalid)
	}
	auth, err := netio.NewAuth(cfg.Credentials, proto.RoleSession)
	if err != nil {
		return nil, fmt.Errorf("cannot create session: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("role", "session"), nodeAuth: auth, refusals: newRefusalLogs()}
	s.reg = newRegistry(cfg.Slots)
	s.zoneOff.wake = make(chan struct{}, 1)
	s.fwd = newForwarder(s)
	s.links = newLinks(s)
	s.apps = newAppState(s)
	s.config = newConfigCopy(s)
	s.interest = newInterest(s, func(id string) bool { return s.push.Subscribed(id) || s.apps.Follows(id) })
	s.rpc = netio.NewServer(netio.ServerConfig{
		Name: "session", Addr: cfg.ClientAddr, MaxFrame: cfg.MaxFrame, MaxOutbound: cfg.MaxOutbound,
		IdleTimeout: cfg.IdleTimeout, HandshakeTimeout: cfg.HandshakeTimeout, Logger: s.log,
		TLS: cfg.ClientTLS,
		OnListener: func(err error) {
			if agent := s.agent.Load(); agent != nil {
				agent.SetServing(err == nil)
			}
		},
	}, clientHandler{s})
	s.push = push.New(push.Config{
		Debounce: cfg.Debounce, MaxDebounce: cfg.MaxDebounce, Retry: cfg.PushRetry,
		PauseAbove: cfg.PausePushAbove, PauseTotal: cfg.PausePushTotal,
		CompressAbove: cfg.CompressAbove, DisableDelta: cfg.DisableDelta, Logger: s.log,
		Gate: s.pushAllowed, DataCenter: cfg.DataCenter,
	}, datumSource{fetch: s.fetchDatum, reg: s.reg, apps: s.apps, config: s.config}, s.apps, s.rpc)
	s.apps.push = s.push
	s.limits = newAdmission(&s.cfg, s.log, s.rpc)
	s.auth = newAuthState(cfg.ClientToken, s.log)
	s.http = opshttp.New(cfg.HTTPAddr, s.health, s.log)
	s.http.SetRole("session")
	s.http.SetAdmin(cfg.Admin)
	s.adminRoutes()
	s.routes()
	s.gauges = newGauges(s)
	return s, nil
}

// Start listens for clients, joins the cluster through meta and starts
// forwarding and pushing. It returns once the listeners are up.
func (s *Server) Start(ctx context.Context) error {
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.rpc.Start(ctx); err != nil {
		return fmt.Errorf("cannot start session client listener: %w", err)
	}
	if err := s.http.Start(ctx); err != nil {
		_ = s.rpc.Stop(ctx)
		return fmt.Errorf("cannot start session HTTP: %w", err)
	}
	rpcAddr := metaclient.AdvertiseOn(s.cfg.AdvertiseHost, s.rpc.Addr())
	s.node.Store(&proto.NodeInfo{
		ID:      rpcAddr + "/" + strconv.FormatInt(time.Now().UnixNano(), 36),
		RPCAddr: rpcAddr, HTTPAddr: metaclient.AdvertiseOn(s.cfg.AdvertiseHost, s.http.Addr()),
	})
	if err := s.nodeAuth.SetSelf(s.self().ID, rpcAddr); err != nil {
		_ = s.Stop(ctx)
		return fmt.Errorf("cannot join the cluster: %w", err)
	}
	agent := metaclient.New(metaclient.Config{
		MetaAddrs: s.cfg.MetaAddrs, Role: proto.RoleSession, Node: s.self(), Auth: s.nodeAuth, Logger: s.log,
		Interval: metaHeartbeat,
		Load:     s.load,
		// Meta refuses a node of another data center.
		DataCenter: s.cfg.DataCenter,
		OnDrainOrder: func(on bool) {
			if on {
				s.startDrain(false)
			} else {
				s.endDrain()
			}
		},
		OnChange: func(v metaclient.View) {
			s.applyNodeConfig(v.Config)
			s.links.reconcile(s.ctx, v.DataNodes)
			s.fwd.tableChanged()
			s.links.wakeAll()
		},
	})
	s.agent.Store(agent)
	if err := agent.Start(s.ctx); err != nil {
		_ = s.Stop(ctx)
		return fmt.Errorf("cannot join the cluster: %w", err)
	}
	s.goRun(s.interest.run)
	s.goRun(s.links.scan)
	s.push.Start()
	s.goRun(s.maintain)
	s.goRun(s.zoneOffLoop)
	s.goRun(s.apps.run)
	s.goRun(s.config.run)
	metrics.RegisterSet(s.gauges)
	s.log.Info("session started", "clientAddr", s.rpc.Addr(), "httpAddr", s.http.Addr(), "id", s.ID())
	return nil
}

// maintain forgets old tombstones and acknowledged writes, and fetches
// followed application datums no fetch is under way for, until ctx is done.
func (s *Server) maintain(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var compacted time.Time
	var followed []string // reused: asked every second
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if now.Sub(compacted) > time.Minute {
				s.reg.compactTombs(now.Add(-tombstoneTTL))
				compacted = now
			}
			s.fwd.forgetAcked(now)
			s.releaseLeft(now, s.leaveGrace())
			followed = s.apps.appendFollowedIDs(followed[:0])
			s.push.Repair(followed)
			clear(followed)
		}
	}
}

// tombstoneTTL is how long an unpublished registration is remembered; a
// publish of it delayed longer than this is not expected.
const tombstoneTTL = 10 * time.Minute

func (s *Server) goRun(fn func(context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn(s.ctx)
	}()
}

// Stop closes client connections and links, and waits for goroutines.
// With Config.DrainTimeout set it drains first (drain.go).
func (s *Server) Stop(ctx context.Context) error {
	if s.cancel == nil {
		return nil
	}
	if s.cfg.DrainTimeout > 0 && s.ctx.Err() == nil {
		s.drainForStop(ctx, s.cfg.DrainTimeout)
	}
	var errs []error
	errs = append(errs, s.rpc.Stop(ctx))
	if agent := s.agent.Load(); agent != nil {
		errs = append(errs, agent.Stop(ctx))
	}
	s.cancel()
	s.links.closeAll()
	errs = append(errs, s.http.Stop(ctx))
	s.wg.Wait()
	s.push.Stop()
	metrics.UnregisterSet(s.gauges, true)
	return errors.Join(errs...)
}

// ClientAddr is the address clients connect to, as advertised to them.
func (s *Server) ClientAddr() string { return s.self().RPCAddr }

// self is this node as it is named to others; empty before Start.
func (s *Server) self() proto.NodeInfo {
	if n := s.node.Load(); n != nil {
		return *n
	}
	return proto.NodeInfo{}
}

// HTTPAddr is the operations HTTP address.
func (s *Server) HTTPAddr() string { return s.http.Addr() }

// ID is this process's session id.
func (s *Server) ID() string { return s.self().ID }

// Ready reports whether the session holds a slot table with a leader for
// every slot and a link to each of those leaders.
func (s *Server) Ready() bool {
	t := s.table()
	if t.Epoch() == 0 {
		return false
	}
	for slot := 0; slot < s.cfg.Slots; slot++ {
		leader := t.Leader(uint32(slot))
		if leader == "" {
			return false
		}
		if dl := s.links.get(leader); dl == nil || dl.client.Link() == nil {
			return false
		}
	}
	return true
}

var emptyTable, _ = slotstore.NewTable(&proto.SlotTable{})

func (s *Server) table() *slotstore.Table {
	return s.view().Table
}

// view is the cluster as meta last described it.
func (s *Server) view() metaclient.View {
	if agent := s.agent.Load(); agent != nil {
		return agent.View()
	}
	return metaclient.View{Table: emptyTable}
}

func (s *Server) health() (bool, any) {
	groups, _ := s.push.Counts()
	t := s.table()
	detail := map[string]any{
		"clients": s.rpc.ConnCount(), "publishers": s.reg.publisherCount(), "subscribedDataInfoIds": groups,
		"pendingWrites": s.fwd.pending(), "slotTableEpoch": t.Epoch(), "draining": s.Draining(),
	}
	if err := s.rpc.Serving(); err != nil {
		detail["listener"] = err.Error()
		return false, detail
	}
	return t.Epoch() > 0, detail
}

// now returns a RegisterTimestamp: unix ms, never below one handed out before,
// so two registrations through this session are always ordered.
func (s *Server) now() int64 {
	for {
		last := s.clock.Load()
		n := max(time.Now().UnixMilli(), last)
		if s.clock.CompareAndSwap(last, n) {
			return n
		}
	}
}

// logThrottled logs at most one line per second of each message, for
// errors that can repeat on hot paths.
func (s *Server) logThrottled(msg string, args ...any) { s.warnLog.Warn(s.log, msg, args...) }

// fetchDatum fetches id from its slot leader into d, which points into the
// reply's body. pooled: the caller hands body back (netio.ReleaseBody) once
// nothing of d is used; otherwise d keeps the body, an exact copy.
func (s *Server) fetchDatum(ctx context.Context, id string, d *proto.Datum, pooled bool) (body []byte, err error) {
	leader := s.table().LeaderOf(id)
	if leader == "" {
		return nil, ErrNoLeader
	}
	dl := s.links.get(leader)
	if dl == nil {
		return nil, fmt.Errorf("cannot fetch %s: no link to leader %s", id, leader)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// Remote: global subscribers see the publishers of the linked data
	// centers too (push filters them out for every other subscriber).
	req := &proto.DatumFetch{DataInfoID: id, Remote: true}
	if pooled {
		body, err = netio.CallPooled(ctx, dl.client, req, d)
	} else {
		err = netio.Call(ctx, dl.client, req, d)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot fetch %s from %s: %w", id, leader, err)
	}
	return body, nil
}

// onDataFrame handles frames a data node sends on its own: change notices.
func (s *Server) onDataFrame(l *netio.Link, f netio.Frame) {
	switch f.Header.Type {
	case proto.TypeChangeNotify:
		var m proto.ChangeNotify
		if err := m.Unmarshal(f.Body); err != nil {
			s.logThrottled("bad change notify from data node", "addr", l.Addr(), "err", err)
			return
		}
		notifies.Inc()
		for _, c := range m.Changes {
			s.push.Notify(c)
		}
	case proto.TypeTemporaryNotice:
		s.onTemporaryNotice(l, f.Body)
	case proto.TypeDigestRequest, proto.TypeDiffRequest:
		// Asked by a slot leader checking its copy against ours (sessions
		// are the source of truth). Answered here, on the link's reader:
		// it is a read of the in-memory registry.
		s.answerSync(l, f)
	default:
		if f.Header.RequestID != 0 {
			_ = l.Reply(f.Header.RequestID, &proto.Result{Code: proto.CodeUnknownType, Message: f.Header.Type.String()})
		}
	}
}

// HasClient reports whether a client with this id is connected here.
func (s *Server) HasClient(clientID string) bool {
	found := false
	s.rpc.Range(func(c *netio.Conn) bool {
		if cc, ok := c.Value().(*clientConn); ok && cc.handshaken.Load() && cc.clientID == clientID {
			found = true
		}
		return !found
	})
	return found
}

func (s *Server) answerSync(l *netio.Link, f netio.Frame) {
	if f.Header.RequestID == 0 {
		return
	}
	var reply proto.Message
	switch f.Header.Type {
	case proto.TypeDigestRequest:
		var m proto.DigestRequest
		if err := m.Unmarshal(f.Body); err != nil {
			reply = &proto.Result{Code: proto.CodeBadRequest, Message: err.Error()}
			break
		}
		if sum, ok := s.reg.sum(m.Slot); m.HasSum && ok && sum == m.Sum {
			reply = &proto.SlotDigest{Slot: m.Slot, Same: true}
			break
		}
		reply = &proto.SlotDigest{Slot: m.Slot, Entries: s.reg.digest(m.Slot)}
	case proto.TypeDiffRequest:
		var m proto.DiffRequest
		if err := m.Unmarshal(f.Body); err != nil {
			reply = &proto.Result{Code: proto.CodeBadRequest, Message: err.Error()}
			break
		}
		reply = &proto.SlotDiff{Slot: m.Slot, Publishers: s.reg.syncPublishers(m.DataInfoIDs...)}
	}
	syncAnswers.Inc()
	_ = l.Reply(f.Header.RequestID, reply)
}
