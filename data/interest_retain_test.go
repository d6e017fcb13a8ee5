package data

import (
	"runtime"
	"testing"
	"unsafe"
	"weak"

	"github.com/roster-registry/roster/proto"
)

// TestInterestKeepsNoFrame: the dataInfoIds a connection's interest set
// keeps are copies, so the frame they were decoded from (its strings alias
// it) is collected once the handler is done with it. Without the copy a
// few small ids would pin every frame a session ever sent.
func TestInterestKeepsNoFrame(t *testing.T) {
	s := startData(t, startMeta(t))
	sc := &sessConn{session: "127.0.0.1:1/s"}
	frame := applyFromFrame(t, s, sc)
	for range 3 {
		runtime.GC()
	}
	if frame.Value() != nil {
		t.Fatal("the interest set keeps the frame its ids were decoded from alive")
	}
	if len(sc.ids) != 2 {
		t.Fatalf("interest set holds %d ids, want 2", len(sc.ids))
	}
}

// applyFromFrame decodes an Interest from a frame of its own, applies it to
// sc and returns a weak pointer to the decoded body the ids alias, which is
// no longer reachable from here once it returns.
//
//go:noinline
func applyFromFrame(t *testing.T, s *Server, sc *sessConn) weak.Pointer[byte] {
	body := (&proto.Interest{Reset: true, Add: []string{dataInfoID(1), dataInfoID(2)}}).AppendBody(make([]byte, 0, 1<<20))
	var m proto.Interest
	if err := m.Unmarshal(body); err != nil {
		t.Fatal(err)
	}
	if r := s.applyInterest(sc, &m); r != nil {
		t.Fatal(r)
	}
	return weak.Make(unsafe.StringData(m.Add[0]))
}
