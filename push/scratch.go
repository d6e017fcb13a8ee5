package push

import (
	"sync"

	"github.com/roster-registry/roster/netio"
)

// sendScratch is what one pushGroup call gathers: each target's delta base,
// then the connections sharing each frame. A storm pushes thousands of
// groups a second, each to a hundred clients or more: the maps and slices
// made per call were a fifth of a storm's allocations, so they are pooled
// (a cleared map keeps its buckets, a truncated slice its array).
type sendScratch struct {
	base   map[pushTarget]uint64
	frames []frameConns     // in the order their keys were first added
	index  map[frameKey]int // frames' index by key
}

// frameConns is the connections one frame goes to.
type frameConns struct {
	key   frameKey
	conns []*netio.Conn
}

// maxScratchTargets bounds what a pooled scratch keeps: the maps of one
// push to a huge group are left to the collector.
const maxScratchTargets = 1024

var sendScratches = sync.Pool{New: func() any {
	return &sendScratch{base: make(map[pushTarget]uint64), index: make(map[frameKey]int)}
}}

// add queues c for the frame of k.
func (sc *sendScratch) add(k frameKey, c *netio.Conn) {
	i, ok := sc.index[k]
	if !ok {
		i = len(sc.frames)
		sc.index[k] = i
		if i < cap(sc.frames) {
			sc.frames = sc.frames[:i+1]
			sc.frames[i].key = k
		} else {
			sc.frames = append(sc.frames, frameConns{key: k})
		}
	}
	sc.frames[i].conns = append(sc.frames[i].conns, c)
}

// release empties sc, so that it holds no client or connection, and pools
// it unless it served a huge group.
func (sc *sendScratch) release() {
	if len(sc.base) > maxScratchTargets {
		return
	}
	clear(sc.base)
	clear(sc.index)
	for i := range sc.frames {
		clear(sc.frames[i].conns)
		sc.frames[i] = frameConns{conns: sc.frames[i].conns[:0]}
	}
	sc.frames = sc.frames[:0]
	sendScratches.Put(sc)
}
