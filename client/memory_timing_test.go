package client

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-registry/roster/client/wire"
	"github.com/roster-registry/roster/proto"
)

// BenchmarkMemoryPerSubscriber measures what the SDK holds per subscriber
// in the load generator's shape at reduced scale: many Clients in one
// process, each service subscribed once on each of subsPerService different
// clients, 100-byte data. A minimal in-process session (memSession) sends
// each service a full push and then a one-publisher delta, and keeps only a
// list of connections per service, so nearly all the heap measured is the
// SDK's.
//
// Reported, after GC, per subscriber:
//
//   - list-B/sub: heap added by the pushes (the lists and what the
//     handlers' updates left behind), all clients already connected and
//     subscribed;
//
//   - heap-B/sub: heap added since before the clients were created (their
//     connections on both sides, the subscribers, the lists);
//
//   - stack-B/sub and goroutines/sub: goroutine stacks and goroutines added
//     since before the clients were created, once every handler ran (the
//     fake session's reader, one goroutine per client, included).
//
//     cd client && go test -run '^$' -bench MemoryPerSubscriber -benchtime 1x .
func BenchmarkMemoryPerSubscriber(b *testing.B) {
	const clients, services, subsPerService = 200, 500, 20
	for _, pubs := range []int{20, 100} {
		b.Run(fmt.Sprintf("clients=%d/services=%d/pubs=%d/subs=%d", clients, services, pubs, subsPerService), func(b *testing.B) {
			for range b.N {
				benchMemoryPerSubscriber(b, clients, services, pubs, subsPerService)
			}
		})
	}
}

func benchMemoryPerSubscriber(b *testing.B, nclients, services, pubs, subsPerService int) {
	ms := newMemSession(b)
	svc := func(s int) string { return fmt.Sprintf("bench.mem.svc-%07d", s) }
	id := func(s int) string { return svc(s) + "#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP" }
	pad := strings.Repeat("x", 100)
	data := func(s, i int, v uint64) string {
		d := fmt.Sprintf("10.%d.%d.%d:%d?v=%d&", s>>8, s&0xff, i, 8080+i, v)
		return d + pad[len(d):]
	}

	goroutines0 := runtime.NumGoroutine()
	base, stack0 := liveHeap()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	clients := make([]*Client, nclients)
	for i := range clients {
		c, err := New(ctx, Config{Sessions: []string{ms.addr()}, Logger: quietLogger(), RequestTimeout: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
	}
	// Subscriber m subscribes to service m/subsPerService on client
	// m%nclients: with nclients >= subsPerService a service's subscribers
	// sit on as many different clients.
	total := services * subsPerService
	var done atomic.Int64 // subscribers whose handler saw the final version
	const final = 2
	handler := func(u Update) {
		if u.Version == final {
			done.Add(1)
		}
	}
	var wg sync.WaitGroup
	for ci, c := range clients {
		wg.Go(func() {
			for m := ci; m < total; m += nclients {
				if _, err := c.Subscribe(ctx, Subscription{DataID: svc(m / subsPerService), Scope: ScopeDataCenter}, handler); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	subscribed, _ := liveHeap()

	for s := range services {
		list := make([]proto.PushPublisher, pubs)
		for i := range list {
			list[i] = proto.PushPublisher{RegisterID: fmt.Sprintf("p%025d", s*pubs+i), Version: 1, Data: []string{data(s, i, 1)}}
		}
		ms.push(b, fullPushOf(id(s), 1, list))
		changed := proto.PushPublisher{RegisterID: list[0].RegisterID, Version: 2, Data: []string{data(s, 0, 2)}}
		list[0] = changed
		p := fullPushOf(id(s), final, list)
		p.BaseVersion, p.Publishers = 1, []proto.PushPublisher{changed}
		ms.push(b, p)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for done.Load() < int64(total) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d subscribers reached the final version", done.Load(), total)
		}
		time.Sleep(10 * time.Millisecond)
	}
	pushed, stack1 := liveHeap()
	goroutines1 := runtime.NumGoroutine()

	n := float64(total)
	b.ReportMetric(float64(int64(pushed)-int64(subscribed))/n, "list-B/sub")
	b.ReportMetric(float64(int64(pushed)-int64(base))/n, "heap-B/sub")
	b.ReportMetric(float64(int64(stack1)-int64(stack0))/n, "stack-B/sub")
	b.ReportMetric(float64(goroutines1-goroutines0)/n, "goroutines/sub")
	b.ReportMetric(0, "ns/op")
}

func fullPushOf(dataInfoID string, version uint64, pubs []proto.PushPublisher) *proto.Push {
	return &proto.Push{DataInfoID: dataInfoID, Version: version, Publishers: pubs,
		Count: uint32(len(pubs)), Hash: proto.ListHash(pubs)}
}

// liveHeap returns the live heap and the goroutine stacks in use after GC.
func liveHeap() (heap, stack uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.StackInuse
}

// memSession is the least a session must do for the benchmark: accept
// handshakes and registrations, and remember which connections subscribed
// to what so a push goes only to them. Acks are dropped.
type memSession struct {
	srv *testServer

	mu    sync.Mutex
	conns map[string][]*srvConn // by dataInfoID
}

func newMemSession(b *testing.B) *memSession {
	ms := &memSession{conns: map[string][]*srvConn{}}
	ms.srv = startTestServer(b, ms)
	return ms
}

func (ms *memSession) addr() string { return ms.srv.Addr() }

func (ms *memSession) OnOpen(*srvConn)         {}
func (ms *memSession) OnClose(*srvConn, error) {}

func (ms *memSession) OnFrame(c *srvConn, f wire.Frame) {
	if wire.HeartbeatReply(c, f) {
		return
	}
	switch f.Header.Type {
	case proto.TypePushAck:
		return
	case proto.TypeHandshake:
		_ = c.Reply(f.Header.RequestID, &proto.HandshakeReply{Version: proto.ProtocolVersion, ServerID: "mem", HeartbeatMs: 10_000})
		return
	case proto.TypeSubscriber:
		var m proto.Subscriber
		if err := m.Unmarshal(f.Body); err == nil {
			ms.mu.Lock()
			ms.conns[m.DataInfoID] = append(ms.conns[m.DataInfoID], c)
			ms.mu.Unlock()
		}
	}
	_ = c.Reply(f.Header.RequestID, &proto.Result{Code: proto.CodeOK})
}

// push sends p to every connection subscribed to its dataInfoID.
func (ms *memSession) push(b *testing.B, p *proto.Push) {
	ms.mu.Lock()
	conns := ms.conns[p.DataInfoID]
	ms.mu.Unlock()
	for _, c := range conns {
		if err := c.Send(p); err != nil {
			b.Fatalf("cannot push: %v", err)
		}
	}
}
