package loadgen

import (
	"testing"
	"time"
)

// TestSlowest: the slowest changes, each once at its slowest push, slowest
// first, at most slowKeep; merging two keeps the slowest of both.
func TestSlowest(t *testing.T) {
	var a, b slowest
	ms := time.Millisecond
	// Change i (sent at i ns) is seen after i ms, twice: once slower.
	for i := int64(1); i <= 2*slowKeep; i++ {
		a.add(i, time.Duration(i)*ms)
		a.add(i, time.Duration(i)*ms+ms/2)
		a.add(i, time.Duration(i)*ms-ms/2)
	}
	if len(a) != slowKeep {
		t.Fatalf("kept %d, want %d: %v", len(a), slowKeep, a)
	}
	for k, c := range a {
		i := int64(2*slowKeep - k)
		if c.Sent.UnixNano() != i || c.Ms != float64(i)+0.5 {
			t.Fatalf("slowest[%d] = %v at %d ns, want change %d at %v ms", k, c.Ms, c.Sent.UnixNano(), i, float64(i)+0.5)
		}
	}
	// b has one change slower than all of a's, and one of a's at a
	// slower push.
	b.add(100, 100*ms)
	b.add(2*slowKeep, 50*ms)
	a.merge(b)
	if len(a) != slowKeep || a[0].Ms != 100 || a[1].Ms != 50 || a[1].Sent.UnixNano() != 2*slowKeep || a[2].Sent.UnixNano() != 2*slowKeep-1 {
		t.Fatalf("after merge: %v", a)
	}
}
