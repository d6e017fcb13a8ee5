package push

import (
	"fmt"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

// BenchmarkFrame measures building a push frame of a cached datum (no
// compression), as a change of a datum with many publishers does once per
// zone filter, encoding and delta base: the full list, and a delta of one
// changed publisher from the version before:
//
//	go test -run '^$' -bench Frame -benchmem ./push
func BenchmarkFrame(b *testing.B) {
	for _, c := range []struct {
		n     int
		delta bool
	}{{10, false}, {1000, false}, {10, true}, {1000, true}} {
		n := c.n
		b.Run(fmt.Sprintf("publishers=%d/delta=%v", n, c.delta), func(b *testing.B) {
			ids := make([]string, n)
			for i := range ids {
				ids[i] = fmt.Sprintf("p%025d", i)
			}
			src := &fakeSource{}
			src.set("d", Datum{Version: 5, Publishers: pubs(ids...)})
			e := New(Config{}, src, passMerger{}, &fakeSender{})
			e.Start()
			defer e.Stop()
			if _, err := e.Subscribe("d", newTestClient("a"), Subscription{RegisterID: "s", Scope: proto.ScopeDataCenter}); err != nil {
				b.Fatal(err)
			}
			e.PushNew("d")
			for deadline := time.Now().Add(10 * time.Second); e.Version("d") == 0; {
				if time.Now().After(deadline) {
					b.Fatal("datum not fetched")
				}
				time.Sleep(time.Millisecond)
			}
			var key frameKey
			if c.delta {
				key.base = e.Version("d")
				ids[0] = "changed"
				src.set("d", Datum{Version: 6, Publishers: pubs(ids...)})
				e.Refetch("d")
				for deadline := time.Now().Add(10 * time.Second); e.Version("d") == key.base; {
					if time.Now().After(deadline) {
						b.Fatal("change not fetched")
					}
					time.Sleep(time.Millisecond)
				}
			}
			en := e.entry("d")
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				en.mu.Lock()
				en.built = nil
				en.mu.Unlock()
				if e.frame(en, key) == nil {
					b.Fatal("no frame")
				}
			}
		})
	}
}
