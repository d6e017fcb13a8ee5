package push

import (
	"testing"

	"github.com/roster-registry/roster/netio"
)

// TestSendScratchReuse checks that a pooled scratch groups connections by
// frame in the order the frames were first asked for, and that a released
// one starts empty: no connection of an earlier push goes with a later one.
func TestSendScratchReuse(t *testing.T) {
	c1, c2, c3 := new(netio.Conn), new(netio.Conn), new(netio.Conn)
	full, delta := frameKey{base: 0}, frameKey{base: 7}
	sc := &sendScratch{base: make(map[pushTarget]uint64), index: make(map[frameKey]int)}
	sc.add(delta, c1)
	sc.add(full, c2)
	sc.add(delta, c3)
	if len(sc.frames) != 2 || sc.frames[0].key != delta || sc.frames[1].key != full ||
		len(sc.frames[0].conns) != 2 || sc.frames[0].conns[1] != c3 || len(sc.frames[1].conns) != 1 {
		t.Fatalf("frames = %+v", sc.frames)
	}
	kept := sc.frames[0].conns[:2]
	sc.base[pushTarget{filter: "z"}] = 3
	sc.release()
	if len(sc.base) != 0 || len(sc.index) != 0 || len(sc.frames) != 0 || kept[0] != nil || kept[1] != nil {
		t.Fatalf("released scratch holds %d bases, %d keys, %d frames, conns %v", len(sc.base), len(sc.index), len(sc.frames), kept)
	}
	sc.add(full, c1)
	if len(sc.frames) != 1 || sc.frames[0].key != full || len(sc.frames[0].conns) != 1 || sc.frames[0].conns[0] != c1 {
		t.Fatalf("reused scratch: frames = %+v", sc.frames)
	}
}
