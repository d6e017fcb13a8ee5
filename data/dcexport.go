package data

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// maxDCWatchers bounds the connections of remote data centers' nodes that
// watch slots led here (DCWatch): one per remote slot leader importing
// from this node, so a few per linked data center.
const maxDCWatchers = 256

// dcWatchers streams the changes of the local publishers of the slots led
// here to the remote data centers' slot leaders that import them: a
// ChangeNotify per batch, on the connection that sent the DCWatch. Only
// changes of the local store go out (Server.notify), never what this node
// imported itself: a data center does not re-export, so three or more
// linked data centers do not loop.
type dcWatchers struct {
	n      atomic.Int32 // watching connections: notify with none costs one load
	mu     sync.RWMutex
	bySlot map[uint32][]*netio.Conn
	conns  map[*netio.Conn][]uint32
}

func newDCWatchers() *dcWatchers {
	return &dcWatchers{bySlot: make(map[uint32][]*netio.Conn), conns: make(map[*netio.Conn][]uint32)}
}

// set makes slots the set c watches (none: c stops watching).
func (w *dcWatchers) set(c *netio.Conn, slots []uint32) error {
	slots = slices.Compact(slices.Sorted(slices.Values(slots)))
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.conns[c]; !ok && len(slots) > 0 && len(w.conns) >= maxDCWatchers {
		return fmt.Errorf("%d connections of remote data centers watch this node already, at most %d", len(w.conns), maxDCWatchers)
	}
	w.dropLocked(c)
	if len(slots) == 0 {
		return nil
	}
	w.conns[c] = slots
	for _, sl := range slots {
		w.bySlot[sl] = append(w.bySlot[sl], c)
	}
	w.n.Store(int32(len(w.conns)))
	return nil
}

// watches reports whether c watches slots: it is a remote data center's
// importer.
func (w *dcWatchers) watches(c *netio.Conn) bool {
	if w.n.Load() == 0 {
		return false
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	_, ok := w.conns[c]
	return ok
}

// drop forgets c (closed).
func (w *dcWatchers) drop(c *netio.Conn) {
	if w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dropLocked(c)
}

func (w *dcWatchers) dropLocked(c *netio.Conn) {
	for _, sl := range w.conns[c] {
		cs := slices.DeleteFunc(w.bySlot[sl], func(x *netio.Conn) bool { return x == c })
		if len(cs) == 0 {
			delete(w.bySlot, sl)
		} else {
			w.bySlot[sl] = cs
		}
	}
	delete(w.conns, c)
	w.n.Store(int32(len(w.conns)))
}

// changed sends each watcher the changes of the slots it watches. It
// never blocks: a frame the connection cannot queue is lost, and the
// importer's periodic digest repair finds the difference.
func (w *dcWatchers) changed(s *Server, changes []proto.DatumVersion) {
	if w.n.Load() == 0 || len(changes) == 0 {
		return
	}
	per := make(map[*netio.Conn][]proto.DatumVersion)
	w.mu.RLock()
	for _, ch := range changes {
		for _, c := range w.bySlot[s.store.SlotOf(ch.DataInfoID)] {
			per[c] = append(per[c], ch)
		}
	}
	w.mu.RUnlock()
	for c, chs := range per {
		if err := c.Send(&proto.ChangeNotify{Changes: chs}); err == nil {
			s.m.dcNotifies.Inc()
		}
	}
}

// refuseExport returns the answer to a remote data center's digest or
// diff of a slot that is not yet whole here, nil when it is: a slot this
// node came to lead is whole once it synced with the sessions and, when
// rebuilt from them alone (every node restarted), once their clients'
// replay window passed. Served before, a digest of an empty or partial
// slot makes the importer drop publishers its global subscribers hold and
// import them again a moment later: a flap. The importer keeps what it
// has and repairs the slot at its next round.
func (s *Server) refuseExport(slot uint32) *proto.Result {
	if healthy, settle := s.slots.serving(slot, time.Now()); !healthy || settle > 0 {
		return &proto.Result{Code: proto.CodeUnavailable, Message: "slot is syncing with the sessions after a leader change"}
	}
	return nil
}

// watch answers a DCWatch from a data node of another data center.
func (s *Server) watch(c *netio.Conn, m *proto.DCWatch) *proto.Result {
	if err := proto.ValidateDataCenterName(m.DataCenter); err != nil {
		return badRequest(err.Error())
	}
	if m.DataCenter == s.cfg.DataCenter {
		return badRequest("a DCWatch from this data center: its nodes follow slots, they do not import them")
	}
	if len(m.Slots) > s.cfg.Slots {
		return badRequest(fmt.Sprintf("%d slots watched, the cluster has %d", len(m.Slots), s.cfg.Slots))
	}
	for _, sl := range m.Slots {
		if int64(sl) >= int64(s.cfg.Slots) {
			return badRequest(fmt.Sprintf("no slot %d", sl))
		}
	}
	if err := s.dcw.set(c, slices.Clone(m.Slots)); err != nil {
		return &proto.Result{Code: proto.CodeTooLarge, Message: err.Error()}
	}
	return &proto.Result{Code: proto.CodeOK}
}
