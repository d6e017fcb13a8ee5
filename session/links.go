package session

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/roster-registry/roster/internal/queue"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// dataLink is the session's connection to one data node: writes for the
// slots it leads, datum fetches, interest, and change notifications back.
type dataLink struct {
	addr   string
	client *netio.Client
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// links keeps one dataLink per live data node.
type links struct {
	s  *Server
	mu sync.Mutex
	m  map[string]*dataLink
}

func newLinks(s *Server) *links { return &links{s: s, m: make(map[string]*dataLink)} }

// reconcile opens links to new data nodes and closes links to gone ones.
func (l *links) reconcile(ctx context.Context, nodes []proto.NodeInfo) {
	want := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		want[n.RPCAddr] = true
	}
	l.mu.Lock()
	var gone []*dataLink
	for addr, dl := range l.m {
		if !want[addr] {
			gone = append(gone, dl)
			delete(l.m, addr)
		}
	}
	for addr := range want {
		if _, ok := l.m[addr]; !ok {
			l.m[addr] = l.open(ctx, addr)
		}
	}
	all := make([]*dataLink, 0, len(l.m))
	for _, dl := range l.m {
		all = append(all, dl)
	}
	l.mu.Unlock()
	for _, dl := range gone {
		dl.close()
	}
	for _, dl := range all {
		signal(dl.wake)
	}
}

func (l *links) open(ctx context.Context, addr string) *dataLink {
	s := l.s
	ctx, cancel := context.WithCancel(ctx)
	dl := &dataLink{addr: addr, wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	dl.client = netio.NewClient(netio.ClientConfig{
		Addrs: []string{addr},
		Link: netio.LinkConfig{
			MaxFrame:          s.cfg.MaxFrame,
			HeartbeatInterval: time.Second,
			Handler:           func(lk *netio.Link, f netio.Frame) { s.onDataFrame(lk, f) },
			Logger:            s.log,
			Auth:              s.nodeAuth,
			PeerRole:          proto.RoleData,
		},
		OnConnect: func(ctx context.Context, lk *netio.Link) error {
			// A (re)connected data node knows nothing of this session: say
			// who we are (it asks us for digests over this link), declare
			// every dataInfoId to notify about, fetch what changed meanwhile,
			// then let queued writes flow.
			if err := netio.Call(ctx, lk, &proto.NodeHeartbeat{Role: proto.RoleSession, Node: s.self()}, new(proto.Result)); err != nil {
				return fmt.Errorf("cannot introduce session to %s: %w", addr, err)
			}
			var versions proto.ChangeNotify
			if err := netio.Call(ctx, lk, &proto.Interest{Reset: true, Add: s.appendInterestIDs(nil)}, &versions); err != nil {
				return fmt.Errorf("cannot declare interest to %s: %w", addr, err)
			}
			s.push.Changed(versions.Changes)
			signal(dl.wake)
			return nil
		},
		BackoffMin: 50 * time.Millisecond,
		BackoffMax: 2 * time.Second,
	})
	go func() {
		defer close(dl.done)
		if err := dl.client.Start(ctx); err != nil && ctx.Err() == nil {
			s.logThrottled("cannot connect to data node yet", "addr", addr, "err", err)
		}
		s.fwd.run(ctx, addr, dl.client, dl.wake)
	}()
	return dl
}

func (dl *dataLink) close() {
	dl.cancel()
	_ = dl.client.Stop()
	<-dl.done
}

func (l *links) get(addr string) *dataLink {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[addr]
}

// wake tells addr's sender that writes are waiting.
func (l *links) wake(addr string) {
	if dl := l.get(addr); dl != nil {
		signal(dl.wake)
	}
}

func (l *links) wakeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, dl := range l.m {
		signal(dl.wake)
	}
}

func (l *links) closeAll() {
	l.mu.Lock()
	all := l.m
	l.m = make(map[string]*dataLink)
	l.mu.Unlock()
	for _, dl := range all {
		dl.close()
	}
}

func (l *links) each(fn func(*dataLink)) {
	l.mu.Lock()
	all := make([]*dataLink, 0, len(l.m))
	for _, dl := range l.m {
		all = append(all, dl)
	}
	l.mu.Unlock()
	for _, dl := range all {
		fn(dl)
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// interest batches changes of the set of dataInfoIds data nodes must
// notify this session of, and sends them to every data node. What is sent
// for an id is whether it is wanted when the batch goes out, so an add
// followed by a remove never reaches a node in the wrong order.
type interest struct {
	s       *Server
	wanted  func(id string) bool
	changed *queue.Set[string]
}

func newInterest(s *Server, wanted func(id string) bool) *interest {
	return &interest{s: s, wanted: wanted, changed: queue.New[string]("session_interest")}
}

// update queues id's interest to be declared again, as wanted says then.
// Watched config ids are no data node's: they are left out.
func (in *interest) update(dataInfoID string) {
	if !proto.IsConfigID(dataInfoID) {
		in.changed.Add(dataInfoID)
	}
}

func (in *interest) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-in.changed.Ready():
		}
		var m proto.Interest
		for _, id := range in.changed.TakeAll() {
			if in.wanted(id) {
				m.Add = append(m.Add, id)
			} else {
				m.Remove = append(m.Remove, id)
			}
		}
		if len(m.Add)+len(m.Remove) == 0 {
			continue
		}
		in.s.links.each(func(dl *dataLink) {
			if dl.client.Link() == nil {
				return // its OnConnect sends the whole set
			}
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			var versions proto.ChangeNotify
			if err := netio.Call(rctx, dl.client, &m, &versions); err != nil {
				if ctx.Err() != nil {
					return
				}
				// Drop the link: its reconnect declares the whole set again, so
				// a lost delta cannot leave the node with a wrong set.
				in.s.logThrottled("cannot send interest", "dataNode", dl.addr, "err", err)
				if lk := dl.client.Link(); lk != nil {
					_ = lk.Close()
				}
				return
			}
			// A change applied before the node knew of this interest was not
			// notified: the reply carries current versions to catch up on.
			in.s.push.Changed(versions.Changes)
		})
	}
}

// scan re-declares, every interval, the interest in each subscribed
// dataInfoId to its slot leader; the versions it answers with repair any
// change whose notification was lost (a dropped link, a leader change).
//
// Its slices and map are kept from one scan to the next: an idle session
// subscribed to 30k dataInfoIds (3M publishers) allocated 2.5 MB a scan in
// them, garbage that filled the memory its trims had returned.
func (l *links) scan(ctx context.Context) {
	every := l.s.scanInterval()
	t := time.NewTicker(every)
	defer t.Stop()
	var (
		all      []string
		byLeader = make(map[string][]string)
		known    []proto.VersionHash
	)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if d := l.s.scanInterval(); d != every { // a switch changed it
			every = d
			t.Reset(d)
		}
		table := l.s.table()
		all = l.s.appendInterestIDs(all[:0])
		for _, id := range all {
			if leader := table.LeaderOf(id); leader != "" {
				byLeader[leader] = append(byLeader[leader], id)
			}
		}
		for addr, ids := range byLeader {
			l.scanLeader(ctx, addr, ids, &known)
			if len(ids) == 0 {
				delete(byLeader, addr) // no longer a leader
			} else {
				clear(ids) // the ids are not kept alive till the next scan
				byLeader[addr] = ids[:0]
			}
		}
		clear(all)
	}
}

// scanLeader declares ids to the data leader at addr, scanChunk at a time,
// with what is cached of each in known (kept by the caller across scans).
func (l *links) scanLeader(ctx context.Context, addr string, ids []string, known *[]proto.VersionHash) {
	dl := l.get(addr)
	if dl == nil || dl.client.Link() == nil {
		return
	}
	for len(ids) > 0 && ctx.Err() == nil {
		n := min(len(ids), scanChunk)
		// With what is cached of each: the leader answers only what
		// differs, so a scan of 100k ids nothing changed in gets an
		// empty answer (at 10M, the scans' answers and their checks
		// were most of an idle session's CPU).
		*known = (*known)[:0]
		for _, id := range ids[:n] {
			*known = append(*known, l.s.push.Known(id))
		}
		var versions proto.ChangeNotify
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := netio.Call(rctx, dl.client, &proto.Interest{Add: ids[:n], Known: *known}, &versions)
		cancel()
		if err != nil {
			l.s.logThrottled("version scan failed", "dataNode", addr, "err", err)
			return
		}
		scans.Inc()
		l.s.push.Changed(versions.Changes)
		ids = ids[n:]
	}
}

// scanChunk bounds the ids of one scan request.
const scanChunk = 4096
