package loadgen

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-registry/roster/proto"
)

// The protocol-level target keeps a few bytes per record instead of an SDK
// object, so that one machine can simulate tens of millions of clients'
// records: per publisher its version (4 bytes); per service what its
// subscribers must end with (a ListHash and the time of its last change);
// per subscriber group (the subscribers of one service on one connection,
// which receive the same pushes) the version and ListHash of the list it
// holds. Everything else (register ids, data) is derived from indexes.

// wireIDWidth is the length of the register ids: as long as a UUID without
// dashes plus a prefix, so the servers hold realistic strings.
const wireIDWidth = 24

// wirePubID is publisher n's register id.
func wirePubID(n int) string { return fmt.Sprintf("p%0*d", wireIDWidth-1, n) }

// wireSubID is subscriber m's register id.
func wireSubID(m int) string { return fmt.Sprintf("s%0*d", wireIDWidth-1, m) }

// parseWirePubID returns the publisher index of a register id.
func parseWirePubID(id string) (int, bool) {
	if len(id) != wireIDWidth || id[0] != 'p' {
		return 0, false
	}
	n, err := strconv.Atoi(id[1:])
	return n, err == nil && n >= 0
}

// parseServiceName returns the service index of a serviceName.
func parseServiceName(s string) (int, bool) {
	const prefix = "loadgen.svc-"
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}

// wireData is the data of publisher n at version v, padded to size: its
// content is a function of (n, v), so a subscriber checks every entry it
// receives without keeping it.
func wireData(n int, v uint32, size int) string {
	s := pubAddr(n) + "?v=" + strconv.FormatUint(uint64(v), 10) + "&"
	if len(s) < size {
		s += strings.Repeat("x", size-len(s))
	}
	return s
}

// checkWireData reports whether data is what publisher n published at version v.
func checkWireData(data string, n int, v uint64, size int) bool {
	if v > 1<<32-1 {
		return false
	}
	want := wireData(n, uint32(v), 0)
	return strings.HasPrefix(data, want) && len(data) == max(size, len(want))
}

// svcMark is what the subscribers of a service must end with after its
// last change, and when (and by which kind of change) that was sent.
type svcMark struct {
	want  uint64 // ListHash of the publishers as published
	count uint32 // publishers published
	at    int64  // send time (unix ns) of the last change; 0 for registrations
	kind  byte   // kindRegister, kindChurn or kindStorm
}

// wireBook is what loadgen has published, by publisher and by service.
// Changes of one service are serialized by its lock; readers (the
// connections' push handlers) only load the immutable marks.
type wireBook struct {
	perService int
	dataBytes  int
	ver        []atomic.Uint32 // by publisher: the version published; 0 before
	marks      []atomic.Pointer[svcMark]
	locks      []sync.Mutex // by service
}

func newWireBook(services, perService, dataBytes int) *wireBook {
	b := &wireBook{perService: perService, dataBytes: dataBytes, ver: make([]atomic.Uint32, services*perService),
		marks: make([]atomic.Pointer[svcMark], services), locks: make([]sync.Mutex, services)}
	for i := range b.marks {
		b.marks[i].Store(&svcMark{})
	}
	return b
}

// bump records a new version of publisher n (its registration when it has
// none) and sends it with send. send runs under the service's lock, so two
// changes of one service reach a connection in the order of their
// versions. The change is timed from when it holds the lock: the churn's
// workers and the storm's senders may queue for it, and a change stamped
// before that wait (until 2026-12-07) counted the load generator's own
// queueing into the push's latency (one 1M storm each way: p50 / p99
// 1,374 / 2,255 ms before, 1,244 / 2,067 after, within the spread).
func (b *wireBook) bump(n int, kind byte, send func(*proto.Publisher)) {
	s := n / b.perService
	b.locks[s].Lock()
	defer b.locks[s].Unlock()
	t := time.Now().UnixNano()
	id := wirePubID(n)
	old := b.ver[n].Load()
	v := old + 1
	b.ver[n].Store(v)
	m := *b.marks[s].Load()
	if old == 0 {
		m.count++
	} else {
		m.want ^= proto.PublisherHash(id, uint64(old))
	}
	m.want ^= proto.PublisherHash(id, uint64(v))
	if kind != kindRegister {
		m.at, m.kind = t, kind
	}
	b.marks[s].Store(&m)
	send(&proto.Publisher{DataInfoID: serviceName(s), RegisterID: id, Version: uint64(v),
		Data: []string{wireData(n, v, b.dataBytes)}})
}

// forget takes back the registration of publisher n, which the session refused.
func (b *wireBook) forget(n int) {
	s := n / b.perService
	b.locks[s].Lock()
	defer b.locks[s].Unlock()
	v := b.ver[n].Swap(0)
	if v == 0 {
		return
	}
	m := *b.marks[s].Load()
	m.count--
	m.want ^= proto.PublisherHash(wirePubID(n), uint64(v))
	b.marks[s].Store(&m)
}

// message is publisher n's current registration, for a resend.
func (b *wireBook) message(n int) *proto.Publisher {
	v := b.ver[n].Load()
	return &proto.Publisher{DataInfoID: serviceName(n / b.perService), RegisterID: wirePubID(n), Version: uint64(v),
		Data: []string{wireData(n, v, b.dataBytes)}}
}

// wireGroup is the subscribers of one service on one connection: the
// session pushes a datum once per connection, and every subscriber of it
// there takes the same list. version and hash are written by the
// connection's reader and read by the convergence check.
type wireGroup struct {
	svc     int32
	subs    int32 // subscribers in the group
	sampled bool  // its pushes are timed
	seenAt  int64 // reader only: the change time last timed
	version atomic.Uint64
	hash    atomic.Uint64
	count   atomic.Uint32
	got     atomic.Bool // received a list
}

// checkFull reports whether a full push of service s is consistent: its
// count and hash are those of its entries, and every entry is a publisher
// of s carrying the data it published at that version.
func (r *wireRunner) checkFull(s int, p *proto.Push) bool {
	if int(p.Count) != len(p.Publishers) || proto.ListHash(p.Publishers) != p.Hash {
		return false
	}
	for i := range p.Publishers {
		e := &p.Publishers[i]
		n, ok := parseWirePubID(e.RegisterID)
		if !ok || n/r.cfg.PubsPerService != s || len(e.Data) != 1 || !checkWireData(e.Data[0], n, e.Version, r.cfg.DataBytes) {
			return false
		}
	}
	return true
}
