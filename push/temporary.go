package push

import (
	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

var (
	temporarySent    = metrics.NewCounter(`roster_push_temporary_sent_total`)
	temporarySkipped = metrics.NewCounter(`roster_push_temporary_skipped_total`)
)

// tempKey groups the connections that receive the same temporary frame.
type tempKey struct {
	filter string
	enc    proto.Encoding
	attrs  bool
}

// PushTemporary sends temporary publications of id (proto.TemporaryPush)
// to every connection with a subscriber of id, once per zone filter, and
// returns to how many connections it went. Nothing is kept: the entries
// are neither cached, nor acknowledged, nor sent again, and the next push
// of id carries the stored list only. Like a push, it honours the push
// switch and the Gate, and skips slow readers; it also skips clients older
// than proto.VersionTemporary and subscribers that hold no list yet (they
// could not tell the entries from the list). Every subscriber skipped
// misses the publication: a temporary publication is an event, delivered
// at most once to whoever can take it now.
func (e *Engine) PushTemporary(id string, pubs []proto.PushPublisher) int {
	g := e.group(id)
	if g == nil || len(pubs) == 0 {
		return 0
	}
	if e.stopped.Load() {
		temporarySkipped.Inc()
		return 0
	}
	var version uint64 // the version of the list the entries go with
	if en, ok := e.cache.Load(id); ok {
		en.mu.Lock()
		version = en.version
		en.mu.Unlock()
	}
	overTotal := e.out.Outbound() > int64(e.cfg.PauseTotal)
	seen := make(map[pushTarget]bool)
	conns := make(map[tempKey][]*netio.Conn)
	skipped := 0
	g.mu.Lock()
	for sub := range g.subs.all() {
		t := pushTarget{sub.client(), sub.filter()}
		if seen[t] {
			continue
		}
		seen[t] = true
		c := t.client
		switch {
		case !c.Temporary, sub.acked == 0 && g.sent(sub).version == 0, c.isClosed(),
			e.cfg.Gate != nil && !e.cfg.Gate(c):
			skipped++
			continue
		}
		if out := c.conn.Outbound(); out > e.cfg.PauseAbove || out > 0 && overTotal {
			skipped++
			continue
		}
		k := tempKey{filter: t.filter, enc: proto.Choose(c.Enc), attrs: c.Attrs}
		conns[k] = append(conns[k], c.conn)
	}
	g.mu.Unlock()
	temporarySkipped.Add(skipped)
	sent := 0
	for k, cs := range conns {
		list := filterZone(pubs, k.filter)
		if len(list) == 0 {
			continue
		}
		m := proto.TemporaryPush{Push: proto.Push{DataInfoID: id, Zone: k.filter, Version: version,
			Publishers: list, Count: uint32(len(list)), Hash: proto.ListHash(list), WithAttrs: k.attrs}}
		f := proto.AppendFrame(make([]byte, 0, proto.HeaderSize+m.Size()), 0, 0, &m)
		if k.enc != 0 && int64(len(f)) > e.compressAbove.Load() {
			f = proto.AppendCompressed(nil, f, k.enc)
		}
		n, err := e.out.WriteShared(f, cs)
		if err != nil {
			pushErrors.Inc()
		}
		sent += n
	}
	temporarySent.Add(sent)
	return sent
}
