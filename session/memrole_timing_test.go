package session_test

import (
	"math"
	"runtime"
	"strings"
	"time"
)

// benchProfileRate is the heap profile's sampling rate while
// BenchmarkMemoryPerRecord runs: at the default 512 KiB a 100,000-record
// heap has a few dozen samples, too few to split it between roles.
const benchProfileRate = 4 << 10

// roleHeap is the live heap by the role that allocated it, from the heap
// profile as of the last collection (scaled as pprof scales samples).
type roleHeap struct{ session, data, meta float64 }

// dataFrames and metaFrames name the packages of the data and meta roles:
// an allocation whose stack passes through one of them is that role's;
// every other (session, push, netio on the session's connections, the
// runtime) counts as the session's, so the session's figure is an upper
// bound.
var (
	dataFrames = []string{"github.com/roster-registry/roster/data.", "github.com/roster-registry/roster/slotstore."}
	metaFrames = []string{"github.com/roster-registry/roster/meta."}
)

// quietHeap is the live heap and its split by role, each the least of
// three readings 300 ms apart: a periodic task caught in flight (a version
// scan between session and data node, a link's exchange) would otherwise
// add tens of bytes per record to one reading.
func quietHeap() (uint64, roleHeap) {
	heap, roles := liveHeap(), heapByRole()
	for range 2 {
		time.Sleep(300 * time.Millisecond)
		h, r := liveHeap(), heapByRole()
		heap = min(heap, h)
		roles = roleHeap{min(roles.session, r.session), min(roles.data, r.data), min(roles.meta, r.meta)}
	}
	return heap, roles
}

// heapByRole collects garbage twice and splits the live heap by role.
func heapByRole() roleHeap {
	runtime.GC()
	runtime.GC()
	var recs []runtime.MemProfileRecord
	for {
		n, ok := runtime.MemProfile(recs, false)
		if ok {
			recs = recs[:n]
			break
		}
		recs = make([]runtime.MemProfileRecord, n+n/4+16)
	}
	rate := float64(runtime.MemProfileRate)
	var h roleHeap
	for i := range recs {
		r := &recs[i]
		inuse := r.InUseBytes()
		if inuse == 0 || r.AllocObjects == 0 {
			continue
		}
		avg := float64(r.AllocBytes) / float64(r.AllocObjects)
		scaled := float64(inuse) / (1 - math.Exp(-avg/rate))
		switch {
		case stackIn(r.Stack(), dataFrames):
			h.data += scaled
		case stackIn(r.Stack(), metaFrames):
			h.meta += scaled
		default:
			h.session += scaled
		}
	}
	return h
}

func stackIn(stack []uintptr, prefixes []string) bool {
	frames := runtime.CallersFrames(stack)
	for {
		f, more := frames.Next()
		for _, p := range prefixes {
			if strings.HasPrefix(f.Function, p) {
				return true
			}
		}
		if !more {
			return false
		}
	}
}
