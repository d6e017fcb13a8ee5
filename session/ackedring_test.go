package session

import (
	"strconv"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

func ringIDs(r *ackedRing) []string {
	var ids []string
	r.each(func(a *ackedOp) { ids = append(ids, a.w.registerID()) })
	return ids
}

// TestAckedRingKeepsNewestInOrder pushes past maxRecent: the ring keeps the
// newest maxRecent writes, oldest first, without growing past maxRecent,
// and expiry drops from the oldest.
func TestAckedRingKeepsNewestInOrder(t *testing.T) {
	var r ackedRing
	t0 := time.Unix(1000, 0)
	total := maxRecent + 37
	for i := range total {
		r.push(ackedOp{w: newWrite(proto.WriteOp{Publisher: proto.Publisher{RegisterID: string(rune('a'+i%26)) + itoa(i)}}), at: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	if r.len() != maxRecent || len(r.buf) != maxRecent {
		t.Fatalf("holds %d in an array of %d, want %d in %d", r.len(), len(r.buf), maxRecent, maxRecent)
	}
	ids := ringIDs(&r)
	for i, id := range ids {
		want := total - maxRecent + i
		if id != string(rune('a'+want%26))+itoa(want) {
			t.Fatalf("write %d is %q, want number %d", i, id, want)
		}
	}
	// Expire everything acked a window or more ago, up to write total-10: nine are left.
	r.expire(t0.Add(time.Duration(total-10)*time.Millisecond+time.Second), time.Second)
	if r.len() != 9 {
		t.Fatalf("%d writes left after expiry, want 9", r.len())
	}
	r.expire(t0.Add(time.Hour), time.Second)
	if r.len() != 0 || r.buf != nil {
		t.Fatalf("an expired ring keeps %d writes and an array of %d", r.len(), len(r.buf))
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestAckedRingFullPushDoesNotAllocate: a write on a full ring replaces the
// oldest in place.
func TestAckedRingFullPushDoesNotAllocate(t *testing.T) {
	var r ackedRing
	a := ackedOp{w: newWrite(proto.WriteOp{Publisher: proto.Publisher{RegisterID: "x"}})}
	for range maxRecent {
		r.push(a)
	}
	if n := testing.AllocsPerRun(100, func() { r.push(a) }); n != 0 {
		t.Fatalf("a push on a full ring allocates %v times", n)
	}
}

// TestAckedRingShrinks: a ring grown by a burst moves to smaller arrays as
// its writes expire, keeping the newest in order (a steady churn keeps
// every slot's ring from emptying, so only shrinking lets the burst's
// array go).
func TestAckedRingShrinks(t *testing.T) {
	var r ackedRing
	t0 := time.Unix(1000, 0)
	total := maxRecent + 100 // the ring wraps: its oldest is not at index 0
	for i := range total {
		r.push(ackedOp{w: newWrite(proto.WriteOp{Publisher: proto.Publisher{RegisterID: itoa(i)}}), at: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	// Keep the newest 20: the array halves at each look while a quarter
	// full or less.
	now := t0.Add(time.Duration(total-21)*time.Millisecond + time.Second)
	for range 8 {
		r.expire(now, time.Second)
	}
	if r.len() != 20 || len(r.buf) != 64 {
		t.Fatalf("holds %d writes in an array of %d, want 20 in 64", r.len(), len(r.buf))
	}
	for i, id := range ringIDs(&r) {
		if want := itoa(total - 20 + i); id != want {
			t.Fatalf("write %d is %q, want %q", i, id, want)
		}
	}
	// It grows again as writes come.
	for i := range 100 {
		r.push(ackedOp{w: newWrite(proto.WriteOp{Publisher: proto.Publisher{RegisterID: "n" + itoa(i)}}), at: now})
	}
	if ids := ringIDs(&r); len(ids) != 120 || ids[0] != itoa(total-20) || ids[119] != "n99" {
		t.Fatalf("after 100 more: %d writes, %q … %q", len(ids), ids[0], ids[len(ids)-1])
	}
}
