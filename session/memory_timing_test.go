package session_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/proto"
)

// BenchmarkMemoryPerRecord measures the live heap an integrated cluster (meta,
// data and session in this process) holds per publisher and per subscriber,
// after GC, in three shapes: bench-compare's (ten publishers and ten
// subscribers per service), a subscriber-heavy one (1 publisher : 4
// subscribers) and a zone-scoped one (publishers of three zones, each
// subscriber ScopeZone in one of them). 100-byte data, over 100 connections.
// The clients speak raw frames and keep nothing per record, so the figures
// are the server's alone. Every subscriber acknowledges its pushes, as the
// SDK does. heap-B/pub and heap-B/sub are the whole process's, the data
// node's copy (one replica) and interest index included; session-B/pub and
// session-B/sub are the session's alone (heapByRole), beyond the record's
// own strings (register id and data, their bytes only: size-class rounding
// and length prefixes count as the session's), which is what issue 18's
// targets (200 and 120 B) read.
//
//	go test -run '^$' -bench MemoryPerRecord -benchtime 1x ./session
//	ROSTER_BENCH_HEAP_PROFILE=heap.out go test -run '^$' -bench MemoryPerRecord -benchtime 1x ./session
//
// The profile of each shape goes to heap.out.<shape> (heap.out.even, ...).
func BenchmarkMemoryPerRecord(b *testing.B) {
	const conns = 100
	defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
	runtime.MemProfileRate = benchProfileRate
	for _, sh := range []memShape{
		{name: "even", services: 10_000, pubs: 10, subs: 10},
		{name: "subheavy", services: 10_000, pubs: 5, subs: 20},
		{name: "zone", services: 10_000, pubs: 12, subs: 12, zones: 3},
	} {
		b.Run(fmt.Sprintf("shape=%s/services=%d/pubs=%d/subs=%d/zones=%d", sh.name, sh.services, sh.pubs, sh.subs, max(sh.zones, 1)), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				benchMemoryPerRecord(b, sh, conns)
			}
		})
	}
}

// memShape is a population: per service, pubs publishers and subs
// subscribers; with zones > 0 record i of a service is in zone i%zones and
// every subscriber is ScopeZone.
type memShape struct {
	name                 string
	services, pubs, subs int
	zones                int
}

// want is the number of publishers a subscriber's complete push holds.
func (sh memShape) want() int {
	if sh.zones > 0 {
		return sh.pubs / sh.zones
	}
	return sh.pubs
}

func (sh memShape) zone(i int) string {
	if sh.zones == 0 {
		return ""
	}
	return fmt.Sprintf("zone-%d", i%sh.zones)
}

func benchMemoryPerRecord(b *testing.B, sh memShape, nconns int) {
	if nconns < sh.subs {
		b.Fatal("a connection must hold one subscriber of a service at most")
	}
	services := sh.services
	c := testcluster.Start(b, testcluster.Options{Slots: 256})
	addr := c.SessionAddrs()[0]
	// complete[s] counts the subscribers of service s that received the
	// whole list; sized up front so the count costs nothing per record.
	complete := make([]atomic.Int32, services)
	conns := make([]*rawConn, nconns)
	for i := range conns {
		conns[i] = dialRaw(b, addr, sh.want(), complete)
	}
	// Record n goes to connection n%nconns: with nconns >= subs, a
	// connection holds one subscriber of a service at most.
	pad := strings.Repeat("x", 100)
	svc := func(s int) string { return fmt.Sprintf("bench.mem.svc-%07d", s) }
	rid := func(kind byte, per, s, i int) string { return fmt.Sprintf("%c%025d", kind, s*per+i) }

	base, baseRoles := quietHeap()
	var wg sync.WaitGroup
	for ci, rc := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := ci; n < services*sh.pubs; n += nconns {
				s, i := n/sh.pubs, n%sh.pubs
				data := fmt.Sprintf("10.%d.%d.%d:8080?", s>>16, s>>8&0xff, s&0xff)
				rc.send(&proto.Publisher{DataInfoID: svc(s), RegisterID: rid('p', sh.pubs, s, i), Version: 1, Zone: sh.zone(i),
					Data: []string{data + pad[len(data):]}})
			}
		}()
	}
	wg.Wait()
	waitReplies(b, conns)
	testcluster.Eventually(b, time.Minute, func() bool {
		n := 0
		for _, d := range c.Data {
			n += d.Store().Count()
		}
		return n == services*sh.pubs
	}, "every publisher stored by the data node")
	// The session keeps acked writes for a resend to a new leader for
	// 10 s (replayWindow, forward.go): wait them out to measure what stays.
	time.Sleep(12 * time.Second)
	pubs, pubRoles := quietHeap()
	writeHeapProfile(b, sh.name+".pubs")
	for ci, rc := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := ci; n < services*sh.subs; n += nconns {
				s, i := n/sh.subs, n%sh.subs
				scope := proto.ScopeDataCenter
				if sh.zones > 0 {
					scope = proto.ScopeZone
				}
				rc.send(&proto.Subscriber{DataInfoID: svc(s), RegisterID: rid('s', sh.subs, s, i), Scope: scope, Zone: sh.zone(i)})
			}
		}()
	}
	wg.Wait()
	waitReplies(b, conns)
	testcluster.Eventually(b, 2*time.Minute, func() bool {
		for i := range complete {
			if complete[i].Load() < int32(sh.subs) {
				return false
			}
		}
		return true
	}, "every subscriber pushed the whole list")
	time.Sleep(time.Second) // the last acks in flight
	subs, subRoles := quietHeap()
	writeHeapProfile(b, sh.name)
	npubs, nsubs := float64(services*sh.pubs), float64(services*sh.subs)
	b.ReportMetric(float64(pubs-base)/npubs, "heap-B/pub")
	b.ReportMetric(float64(subs-pubs)/nsubs, "heap-B/sub")
	// The strings each record brings: register ids of 26 bytes, data of 100.
	const ridLen, dataLen = 26, 100
	b.ReportMetric((pubRoles.session-baseRoles.session)/npubs-ridLen-dataLen, "session-B/pub")
	b.ReportMetric((subRoles.session-pubRoles.session)/nsubs-ridLen, "session-B/sub")
	b.ReportMetric((pubRoles.data-baseRoles.data)/npubs, "data-B/pub")
	b.ReportMetric(0, "ns/op")
}

// writeHeapProfile writes the heap profile to $ROSTER_BENCH_HEAP_PROFILE.name
// when that is set: -memprofile is written after the cluster stopped, this
// one shows what it holds. The profile taken after the publishers
// (name.pubs) is the base to diff the subscribers' against:
//
//	go tool pprof -sample_index=inuse_space -diff_base heap.out.even.pubs -top session.test heap.out.even
func writeHeapProfile(b *testing.B, name string) {
	path := os.Getenv("ROSTER_BENCH_HEAP_PROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path + "." + name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// rawConn is a client connection speaking frames by hand: it pipelines
// registrations, counts their replies, and acknowledges every push. Frames
// go out through a queue and a writer goroutine, so the reader never waits
// for the server to read (which it stops doing while its outbound is full).
type rawConn struct {
	out     chan []byte
	conn    net.Conn
	reqID   atomic.Uint64
	replies atomic.Uint64
	errs    atomic.Uint64
}

func dialRaw(b *testing.B, addr string, perService int, complete []atomic.Int32) *rawConn {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	rc := &rawConn{conn: conn, out: make(chan []byte, 1<<12)}
	done := make(chan struct{})
	b.Cleanup(func() { close(done) })
	go rc.write(done)
	rc.send(&proto.Handshake{Version: proto.ProtocolVersion, ClientID: conn.LocalAddr().String(),
		Encodings: proto.EncodingS2})
	go rc.read(perService, complete, make([]uint32, len(complete)))
	return rc
}

func (rc *rawConn) write(done <-chan struct{}) {
	w := bufio.NewWriterSize(rc.conn, 64<<10)
	// Heartbeats keep the connection from idling out while the data node
	// catches up.
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		var f []byte
		select {
		case <-done:
			return
		case <-t.C:
			f = proto.AppendFrame(nil, 0, 0, &proto.Heartbeat{})
		case f = <-rc.out:
		}
		if _, err := w.Write(f); err != nil {
			return
		}
		if len(rc.out) == 0 && w.Flush() != nil {
			return
		}
	}
}

// send queues a request.
func (rc *rawConn) send(m proto.Message) {
	rc.out <- proto.AppendFrame(nil, rc.reqID.Add(1), 0, m)
}

// ack queues a one-way message.
func (rc *rawConn) ack(m proto.Message) { rc.out <- proto.AppendFrame(nil, 0, 0, m) }

func (rc *rawConn) read(perService int, complete []atomic.Int32, seen []uint32) {
	r := bufio.NewReaderSize(rc.conn, 64<<10)
	hb := make([]byte, proto.HeaderSize)
	var body []byte
	var m proto.Push
	for {
		if _, err := io.ReadFull(r, hb); err != nil {
			return
		}
		h, err := proto.ParseHeader(hb, proto.DefaultMaxBody)
		if err != nil {
			return
		}
		body = append(body[:0], make([]byte, h.Length)...)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		switch h.Type {
		case proto.TypeResult, proto.TypeHandshakeReply:
			if h.Type == proto.TypeResult {
				var res proto.Result
				if res.Unmarshal(body) != nil || res.Code != proto.CodeOK {
					rc.errs.Add(1)
				}
			}
			rc.replies.Add(1)
		case proto.TypePush:
			plain, err := proto.Decompress(h.Flags, body, proto.DefaultMaxBody)
			if err != nil || m.Unmarshal(plain) != nil {
				rc.errs.Add(1)
				continue
			}
			s, _ := strconv.Atoi(m.DataInfoID[strings.LastIndexByte(m.DataInfoID, '-')+1:])
			if m.Count == uint32(perService) && seen[s] != m.Count {
				complete[s].Add(1)
			}
			seen[s] = m.Count
			rc.ack(&proto.PushAck{DataInfoID: m.DataInfoID, Zone: m.Zone, Version: m.Version})
		}
	}
}

func waitReplies(b *testing.B, conns []*rawConn) {
	testcluster.Eventually(b, 2*time.Minute, func() bool {
		for _, rc := range conns {
			if rc.replies.Load() != rc.reqID.Load() {
				return false
			}
		}
		return true
	}, "every registration answered")
	for _, rc := range conns {
		if n := rc.errs.Load(); n > 0 {
			b.Fatalf("%d registrations or pushes failed", n)
		}
	}
}
