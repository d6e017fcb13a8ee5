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
