package slotstore

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/roster-registry/roster/proto"
)

// benchPublisher returns publisher j of datum i: a 36-byte register id, one
// 100-byte address, and the origin of one of 10,000 client processes.
func benchPublisher(i, j int) proto.Publisher {
	client := (i*100 + j) % 10000
	ip := fmt.Sprintf("10.%d.%d.%d", client>>16&255, client>>8&255, client&255)
	addr := fmt.Sprintf("%s:12200?app=app-%d&datum=%d&pub=%d&weight=100&", ip, client%1000, i, j)
	addr += strings.Repeat("x", 100-len(addr))
	return proto.Publisher{
		DataInfoID:        fmt.Sprintf("com.example.service%05d:1.0#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP", i),
		RegisterID:        fmt.Sprintf("%08x-%04x-4000-8000-%012x", i, j, i*100+j),
		Data:              []string{addr},
		Zone:              fmt.Sprintf("zone-%d", client%3),
		AppName:           fmt.Sprintf("app-%d", client%1000),
		ClientIP:          ip,
		Version:           1,
		RegisterTimestamp: 1_700_000_000_000 + int64(j),
	}
}

// BenchmarkMemoryPerPublisher measures the heap a publisher costs on top of
// its address. Publishers arrive as in production: decoded from one
// WriteBatch frame per datum, so a string kept by mistake keeps a whole
// frame alive and shows here.
func BenchmarkMemoryPerPublisher(b *testing.B) {
	const datums, perDatum, addrLen = 10_000, 100, 100
	b.ReportAllocs()
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s, err := NewStore(DefaultSlots)
		if err != nil {
			b.Fatal(err)
		}
		var frame []byte
		var batch proto.WriteBatch
		for i := range datums {
			in := proto.WriteBatch{SessionID: fmt.Sprintf("session-%d", i%10), Ops: make([]proto.WriteOp, perDatum)}
			for j := range perDatum {
				in.Ops[j] = proto.WriteOp{Kind: proto.OpPut, Publisher: benchPublisher(i, j)}
			}
			frame = in.AppendBody(frame[:0])
			if err := batch.Unmarshal(frame); err != nil {
				b.Fatal(err)
			}
			for j := range batch.Ops {
				s.Put(batch.SessionID, &batch.Ops[j].Publisher)
			}
		}
		batch = proto.WriteBatch{}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if s.Count() != datums*perDatum {
			b.Fatalf("Count() = %d", s.Count())
		}
		n := float64(datums * perDatum)
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/n-addrLen, "B/pub-over-address")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n-addrLen, "B/pub-live-over-address")
		runtime.KeepAlive(s)
	}
}

func BenchmarkPut(b *testing.B) {
	b.Run("new", func(b *testing.B) {
		s, _ := NewStore(DefaultSlots)
		ps := make([]proto.Publisher, 1000)
		for i := range ps {
			ps[i] = benchPublisher(i, 0)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			p := &ps[i%len(ps)]
			p.RegisterID = fmt.Sprintf("%036d", i) // outside the store's cost, but per op
			s.Put("session", p)
		}
	})
	b.Run("republish", func(b *testing.B) {
		s, ps := filledStore(b, 1000, 10)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			p := &ps[i%len(ps)]
			p.Version++
			if _, ok := s.Put("session", p); !ok {
				b.Fatal("republish not applied")
			}
		}
	})
	b.Run("republish-parallel", func(b *testing.B) {
		s, ps := filledStore(b, 1000, 10)
		var next atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			// Each goroutine republishes its own share of the publishers.
			part := int(next.Add(1)) % 8
			mine := ps[part*len(ps)/8 : (part+1)*len(ps)/8]
			for i := 0; pb.Next(); i++ {
				p := mine[i%len(mine)]
				p.Version += uint64(i/len(mine)) + 1
				s.Put("session", &p)
			}
		})
	})
	b.Run("stale", func(b *testing.B) {
		s, ps := filledStore(b, 1000, 10)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, ok := s.Put("session", &ps[i%len(ps)]); ok {
				b.Fatal("equal put applied")
			}
		}
	})
}

// filledStore holds datums × perDatum publishers; it returns them for reuse.
func filledStore(b *testing.B, datums, perDatum int) (*Store, []proto.Publisher) {
	s, err := NewStore(DefaultSlots)
	if err != nil {
		b.Fatal(err)
	}
	ps := make([]proto.Publisher, 0, datums*perDatum)
	for i := range datums {
		for j := range perDatum {
			p := benchPublisher(i, j)
			s.Put("session", &p)
			ps = append(ps, p)
		}
	}
	return s, ps
}

func BenchmarkDatum(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("pubs=%d", n), func(b *testing.B) {
			s, ps := filledStore(b, 1, n)
			id := ps[0].DataInfoID
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if d := s.Datum(id); len(d.Publishers) != n {
					b.Fatalf("%d publishers", len(d.Publishers))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/pub")
		})
		// DatumInto with buffers reused, as a data node answers fetches.
		b.Run(fmt.Sprintf("pubs=%d/into", n), func(b *testing.B) {
			s, ps := filledStore(b, 1, n)
			id := ps[0].DataInfoID
			var d proto.Datum
			var data []string
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if s.DatumInto(&d, id, &data); len(d.Publishers) != n {
					b.Fatalf("%d publishers", len(d.Publishers))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/pub")
		})
	}
}

func BenchmarkDigest(b *testing.B) {
	s, ps := filledStore(b, 2560, 10) // ~10 datums, 100 publishers per slot
	slot := s.SlotOf(ps[0].DataInfoID)
	for _, session := range []string{"", "session"} {
		b.Run(fmt.Sprintf("session=%q", session), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if len(s.Digest(slot, session)) == 0 {
					b.Fatal("empty digest")
				}
			}
		})
	}
}

func BenchmarkSlotOf(b *testing.B) {
	id := DataInfoID("com.example.service00042:1.0", "", "")
	b.ReportAllocs()
	var sum uint32
	for range b.N {
		sum += SlotOf(id, DefaultSlots)
	}
	_ = sum
}
