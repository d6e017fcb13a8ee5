package data

import (
	"context"
	"sync"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

const (
	// peerRequestTimeout bounds one request to a peer data node or a session.
	peerRequestTimeout = 5 * time.Second
	// maxReplicaOps bounds the ops of one replicated WriteBatch.
	maxReplicaOps = 2048
	// peerMaxOutbound lets a whole replica queue be written between two
	// acknowledged batches.
	peerMaxOutbound = 64 << 20
	// rpcMaxOutbound bounds the bytes queued toward one connection of this
	// node's RPC port. Only authenticated nodes ask anything of it, and what
	// they get is answers to requests they bound themselves (a follower
	// repairs repairParallel slots at once, each one DiffRequest of at most
	// maxDiffPublishers at a time; a session's fetch workers) and the
	// notifies of their interest. With the default of 4 MiB, each data
	// node cut such links off about 70 times in a 10M + 10M bench-scale
	// run, mostly peers' repair links (which carry the replica stream the
	// other way too), each cut failing every request on the link.
	rpcMaxOutbound = 16 << 20
)

// peer is this node's link to another data node: the replication stream
// toward it when it follows a slot led here, and the repair requests toward
// it when it leads a slot followed here.
type peer struct {
	s      *Server
	addr   string
	client *netio.Client
	cancel context.CancelFunc
	done   chan struct{} // closed when run has returned

	mu      sync.Mutex
	queue   []*proto.WriteBatch // replica batches not yet sent
	ops     int                 // ops in queue
	since   time.Time           // when the oldest batch of queue was queued; zero when queue is empty
	sending time.Time           // when the oldest batch being sent was queued; zero when none is
	wake    chan struct{}       // one slot: queue went from empty to not empty
}

// peerPool keeps one peer per data node address.
type peerPool struct {
	s   *Server
	mu  sync.Mutex
	m   map[string]*peer
	ctx context.Context // nil before Start and after closeAll: no new peer
}

func newPeerPool(s *Server) *peerPool { return &peerPool{s: s, m: make(map[string]*peer)} }

func (pp *peerPool) start(ctx context.Context) {
	pp.mu.Lock()
	pp.ctx = ctx
	pp.mu.Unlock()
}

// get returns the peer of addr, starting it if needed; nil once closed. It
// does not block: the link is dialed in the background.
func (pp *peerPool) get(addr string) *peer {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if p := pp.m[addr]; p != nil || pp.ctx == nil {
		return p
	}
	s := pp.s
	ctx, cancel := context.WithCancel(pp.ctx)
	p := &peer{s: s, addr: addr, cancel: cancel, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	p.client = netio.NewClient(netio.ClientConfig{
		Addrs: []string{addr},
		Link: netio.LinkConfig{
			RequestTimeout: peerRequestTimeout,
			// Keeps the link out of the peer's idle sweep and finds a dead peer.
			HeartbeatInterval: s.cfg.IdleTimeout / 3,
			MaxOutbound:       peerMaxOutbound,
			Logger:            s.cfg.Logger,
			Auth:              s.auth,
			PeerRole:          proto.RoleData,
		},
		BackoffMin: 50 * time.Millisecond,
		BackoffMax: 2 * time.Second,
	})
	pp.m[addr] = p
	go p.run(ctx)
	return p
}

// prune stops the peers for which keep is false.
func (pp *peerPool) prune(keep func(addr string) bool) {
	pp.mu.Lock()
	var gone []*peer
	for addr, p := range pp.m {
		if !keep(addr) {
			gone = append(gone, p)
			delete(pp.m, addr)
		}
	}
	pp.mu.Unlock()
	for _, p := range gone {
		p.stop()
	}
}

// closeAll stops every peer and refuses new ones.
func (pp *peerPool) closeAll() {
	pp.mu.Lock()
	pp.ctx = nil
	pp.mu.Unlock()
	pp.prune(func(string) bool { return false })
}

func (p *peer) stop() {
	p.cancel()
	_ = p.client.Stop()
	<-p.done
}

// enqueue queues a replica batch; false when the queue is full (dropped).
// It never blocks: it runs on event loops.
func (p *peer) enqueue(wb *proto.WriteBatch) bool {
	p.mu.Lock()
	if p.ops+len(wb.Ops) > p.s.cfg.ReplicaQueue {
		p.mu.Unlock()
		return false
	}
	if len(p.queue) == 0 {
		p.since = time.Now()
	}
	p.queue = append(p.queue, wb)
	p.ops += len(wb.Ops)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return true
}

// run connects, then sends what is queued whenever something is.
func (p *peer) run(ctx context.Context) {
	defer close(p.done)
	// Start launches the reconnecting loop; until a link is ready batches
	// wait in the queue.
	if err := p.client.Start(ctx); err != nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		}
		p.mu.Lock()
		batches := p.queue
		p.queue, p.ops = nil, 0
		p.sending, p.since = p.since, time.Time{}
		p.mu.Unlock()
		p.send(ctx, mergeBySession(batches))
		p.mu.Lock()
		p.sending = time.Time{}
		p.mu.Unlock()
	}
}

// send writes the batches one-way but the last, which is a request: its
// answer means the follower applied them all (a connection is handled in
// order), so at most one queue's worth is in flight. A batch that cannot be
// sent is dropped with the rest; the follower's repair catches up.
func (p *peer) send(ctx context.Context, batches []*proto.WriteBatch) {
	s := p.s
	var l *netio.Link
	if err := p.client.Start(ctx); err == nil { // waits for a ready link
		l = p.client.Link()
	}
	for i, wb := range batches {
		var err error
		switch {
		case l == nil:
			err = netio.ErrNotConnected
		case i < len(batches)-1:
			err = l.Send(wb)
		default:
			rctx, cancel := context.WithTimeout(ctx, peerRequestTimeout)
			err = netio.Call(rctx, l, wb, new(proto.WriteResult))
			cancel()
		}
		if err != nil {
			n := 0
			for _, b := range batches[i:] {
				n += len(b.Ops)
			}
			s.m.replicaDropped.Add(n)
			if ctx.Err() == nil {
				s.replicaLog.Warn(s.log, "cannot stream writes to a follower; its repair will catch up", "follower", p.addr, "ops", n, "err", err)
			}
			return
		}
		s.m.replicaSent.Add(len(wb.Ops))
	}
}

// mergeBySession merges queued batches into one per session (in pieces of
// maxReplicaOps), keeping each session's ops in order. Ops of different
// sessions may pass each other: versions order the writes of a register id,
// and a follower applies replicated removals without the owner check, so
// the result is the same.
func mergeBySession(batches []*proto.WriteBatch) []*proto.WriteBatch {
	if len(batches) < 2 && (len(batches) == 0 || len(batches[0].Ops) <= maxReplicaOps) {
		return batches
	}
	// Each session's ops are counted first, so that a merged batch is made
	// at its size: grown op by op, a storm's merges were a tenth of a data
	// node's allocation.
	left := make(map[string]int)
	for _, b := range batches {
		left[b.SessionID] += len(b.Ops)
	}
	var out []*proto.WriteBatch
	last := make(map[string]*proto.WriteBatch) // session -> its batch being filled
	for _, b := range batches {
		for _, op := range b.Ops {
			m := last[b.SessionID]
			if m == nil || len(m.Ops) == maxReplicaOps {
				n := min(left[b.SessionID], maxReplicaOps) // the ops this batch will take
				left[b.SessionID] -= n
				m = &proto.WriteBatch{SessionID: b.SessionID, Replica: true, Ops: make([]proto.WriteOp, 0, n)}
				last[b.SessionID] = m
				out = append(out, m)
			}
			m.SlotTableEpoch = max(m.SlotTableEpoch, b.SlotTableEpoch)
			m.Ops = append(m.Ops, op)
		}
	}
	return out
}
