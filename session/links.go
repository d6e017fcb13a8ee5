package session

import (
	"context"
	"fmt"
	"sync"
	"time"

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
		},
		OnConnect: func(ctx context.Context, lk *netio.Link) error {
			// A (re)connected data node knows nothing of this session: tell it
			// every dataInfoId to notify about, then let queued writes flow.
			err := netio.Call(ctx, lk, &proto.Interest{Reset: true, Add: s.reg.subscribedIDs()}, new(proto.Result))
			if err != nil {
				return fmt.Errorf("cannot declare interest to %s: %w", addr, err)
			}
			signal(dl.wake)
			s.pusher.resyncAll()
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

// interest batches changes of the set of subscribed dataInfoIds and sends
// them to every data node. Only the newest state of an id is kept, so an
// add followed by a remove never reaches a node in the wrong order.
type interest struct {
	s       *Server
	mu      sync.Mutex
	pending map[string]bool // true: add, false: remove
	wake    chan struct{}
}

func newInterest(s *Server) *interest {
	return &interest{s: s, pending: make(map[string]bool), wake: make(chan struct{}, 1)}
}

func (in *interest) set(dataInfoID string, on bool) {
	in.mu.Lock()
	in.pending[dataInfoID] = on
	in.mu.Unlock()
	signal(in.wake)
}

func (in *interest) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-in.wake:
		}
		in.mu.Lock()
		batch := in.pending
		in.pending = make(map[string]bool)
		in.mu.Unlock()
		var m proto.Interest
		for id, on := range batch {
			if on {
				m.Add = append(m.Add, id)
			} else {
				m.Remove = append(m.Remove, id)
			}
		}
		in.s.links.each(func(dl *dataLink) {
			if dl.client.Link() == nil {
				return // its OnConnect sends the whole set
			}
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if err := netio.Call(rctx, dl.client, &m, new(proto.Result)); err != nil {
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
			// notified: fetch once now that every later change will be.
			table := in.s.table()
			for _, id := range m.Add {
				if table.LeaderOf(id) == dl.addr {
					in.s.pusher.refetch(id)
				}
			}
		})
	}
}
