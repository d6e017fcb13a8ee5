package meta

import (
	"slices"
	"strings"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// The sessions' fetches of the watched config (watchconfig.go): answered
// at once when a session's copy differs, else parked, one per connection,
// until the next write or the end of the leadership.

// takeParkedLocked empties the parked fetches and returns them.
func (w *watchState) takeParkedLocked() map[*netio.Conn]watchParked {
	p := w.parked
	w.parked = nil
	return p
}

// setLocked is the answer to a fetch holding the keys up to since.
func (w *watchState) setLocked(since uint64) *proto.ConfigSet {
	m := &proto.ConfigSet{Rev: w.rev, Entries: make([]proto.ConfigEntry, 0, len(w.entries))}
	for k, e := range w.entries {
		ce := proto.ConfigEntry{Key: k, Version: e.version}
		if e.version > since {
			ce.HasValue, ce.Value = true, e.value
		}
		m.Entries = append(m.Entries, ce)
	}
	slices.SortFunc(m.Entries, func(a, b proto.ConfigEntry) int { return strings.Compare(a.Key, b.Key) })
	return m
}

// answerParked answers parked fetches with the copy of leadership epoch,
// or with CodeNotLeader when that leadership is over.
func (s *Server) answerParked(parked map[*netio.Conn]watchParked, epoch uint64) {
	if len(parked) == 0 {
		return
	}
	w := &s.watch
	// Sessions that hold the same copy wait with the same since: one set
	// (every key, sorted) serves them all.
	sets := make(map[uint64]proto.Message)
	w.mu.Lock()
	for _, p := range parked {
		if _, ok := sets[p.since]; ok {
			continue
		}
		if w.leaseEpoch == epoch && epoch != 0 {
			sets[p.since] = w.setLocked(p.since)
		} else {
			sets[p.since] = &proto.Result{Code: proto.CodeNotLeader, Message: "meta leadership changed"}
		}
	}
	w.mu.Unlock()
	for c, p := range parked {
		watchAnswers.Inc()
		reply(c, p.id, sets[p.since])
	}
}

// dropWatchLeadershipLocked marks the copy as no leadership's when one
// ends; s.mu is held (watch.mu is a leaf below it). No reply is written
// under s.mu: answerParkedNotLeading does that after it is released.
func (s *Server) dropWatchLeadershipLocked() {
	w := &s.watch
	w.mu.Lock()
	if w.leaseEpoch == s.leaseEpoch { // else a takeover loaded the next one's already
		w.leaseEpoch = 0
	}
	w.mu.Unlock()
}

// answerParkedNotLeading answers the parked fetches with CodeNotLeader
// when this node leads no more, so sessions ask the next leader at once.
func (s *Server) answerParkedNotLeading() {
	w := &s.watch
	w.mu.Lock()
	var parked map[*netio.Conn]watchParked
	if w.leaseEpoch == 0 {
		parked = w.takeParkedLocked()
	}
	w.mu.Unlock()
	s.answerParked(parked, 0)
}

// serveConfigFetch answers a session's ConfigFetch at once when its copy
// differs (or it will not wait), else parks it until the next write. It
// runs on a gnet event loop: in-memory work only.
func (s *Server) serveConfigFetch(c *netio.Conn, id uint64, f netio.Frame) {
	var m proto.ConfigFetch
	if err := f.Decode(&m); err != nil {
		reply(c, id, &proto.Result{Code: proto.CodeBadRequest, Message: err.Error()})
		return
	}
	epoch, res := s.appFence()
	if res != nil {
		reply(c, id, res)
		return
	}
	w := &s.watch
	w.mu.Lock()
	if w.leaseEpoch != epoch {
		w.mu.Unlock()
		reply(c, id, &proto.Result{Code: proto.CodeUnavailable, Message: "the watched config is loading; retry"})
		return
	}
	if m.Rev != w.rev || m.WaitMs == 0 || id == 0 || len(w.parked) >= maxWatchWaiters {
		set := w.setLocked(m.Since)
		w.mu.Unlock()
		watchAnswers.Inc()
		reply(c, id, set)
		return
	}
	if w.parked == nil {
		w.parked = make(map[*netio.Conn]watchParked)
	}
	// One fetch per connection: a newer one replaces one the session gave
	// up on (its wait ran out), whose answer it would drop anyway.
	w.parked[c] = watchParked{id: id, since: m.Since}
	w.mu.Unlock()
}

// forgetParked drops a closed connection's parked fetch.
func (s *Server) forgetParked(c *netio.Conn) {
	w := &s.watch
	w.mu.Lock()
	delete(w.parked, c)
	w.mu.Unlock()
}
