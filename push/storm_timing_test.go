package push

import (
	"context"
	"fmt"
	"testing"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// countSender counts the pushes written and keeps nothing: the engine's
// own cost, without a transport's.
type countSender struct{ n int }

func (s *countSender) WriteShared(_ []byte, conns []*netio.Conn) (int, error) {
	s.n += len(conns)
	return len(conns), nil
}
func (s *countSender) Outbound() int64 { return 0 }

// BenchmarkStormRound measures one datum's round in a storm, as the engine
// runs it: a change noticed, the datum fetched (from a fake source: one of
// 100 publishers changed), a delta pushed to each subscriber, one on each
// of subs connections, and every subscriber's ack. Reported per push. The
// engine is not started: the round runs on the benchmark's goroutine.
//
//	go test -run '^$' -bench StormRound -benchmem ./push
func BenchmarkStormRound(b *testing.B) {
	for _, subs := range []int{10, 100} {
		b.Run(fmt.Sprintf("publishers=100/subs=%d", subs), func(b *testing.B) {
			ids := make([]string, 100)
			for i := range ids {
				ids[i] = fmt.Sprintf("p%025d", i)
			}
			lists := [2]List{pubs(ids...), pubs(ids...)}
			lists[1] = ListOf(append([]proto.PushPublisher{{RegisterID: ids[0], Version: 2, Data: []string{"moved"}}},
				rawPubs(ids[1:]...)...))
			src, out := &fakeSource{}, &countSender{}
			e := New(Config{}, src, passMerger{}, out)
			clients := make([]*Client, subs)
			for i := range clients {
				clients[i] = newTestClient(fmt.Sprintf("c%d", i))
				if _, err := e.Subscribe("d", clients[i], Subscription{RegisterID: fmt.Sprintf("s%d", i), Scope: proto.ScopeDataCenter}); err != nil {
					b.Fatal(err)
				}
			}
			ctx := context.Background()
			version := uint64(0)
			round := func() {
				version++
				l := lists[version%2]
				src.set("d", Datum{Version: version, Hash: l.hash(), Publishers: l})
				e.changed(proto.DatumVersion{DataInfoID: "d", Version: version})
				e.fetches.Pop()
				e.fetch(ctx, "d")
				ack := proto.PushAck{DataInfoID: "d", Version: e.Version("d")}
				for _, c := range clients {
					e.Ack(c, &ack)
				}
			}
			round() // everyone holds a list: the rounds below push deltas
			sent := out.n
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				round()
			}
			if out.n-sent != b.N*subs {
				b.Fatalf("%d pushes in %d rounds of %d subscribers", out.n-sent, b.N, subs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*subs), "ns/push")
		})
	}
}
