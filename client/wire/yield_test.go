package wire

import (
	"testing"
	"time"
)

// TestBatchYield: a write loop yields before each write while yields are
// quick; after a slow one (the process short of cores) it skips yielding
// for yieldRest, then yields again.
func TestBatchYield(t *testing.T) {
	clock := time.Unix(0, 0)
	yields := 0
	took := 10 * time.Microsecond // what the next yield takes
	y := BatchYield{
		now:     func() time.Time { return clock },
		gosched: func() { yields++; clock = clock.Add(took) },
	}
	write := func(after time.Duration) { clock = clock.Add(after); y.Yield() }
	write(0)
	write(time.Millisecond)
	if yields != 2 {
		t.Fatalf("%d yields for 2 quick writes", yields)
	}
	took = 20 * time.Millisecond
	write(time.Millisecond) // slow: rest until 1 s after it ended
	write(500 * time.Millisecond)
	write(400 * time.Millisecond)
	if yields != 3 {
		t.Fatalf("%d yields, want none in the second after a slow one", yields)
	}
	took = 10 * time.Microsecond
	write(200 * time.Millisecond)
	write(time.Millisecond)
	if yields != 5 {
		t.Fatalf("%d yields, want them back after the rest", yields)
	}
}
