package session

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/puzpuzpuz/xsync/v3"

	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/push"
)

// TestSameVersionOtherContentIsRefetched: across a leader hand-over two
// leaders can give one version to different contents. A notice naming the
// cached version with another hash must lead to a fetch; one with the same
// hash, or without a hash (an older data node), must not.
func TestSameVersionOtherContentIsRefetched(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fired := make(chan uint64, 16)
	p := &pusher{cache: xsync.NewMapOf[string, *datumEntry]()}
	p.debounce = push.NewDebouncer(time.Millisecond, 5*time.Millisecond, func(_ string, v uint64) { fired <- v })
	go p.debounce.Run(ctx)

	e := p.entry("d")
	e.datum = &proto.Datum{DataInfoID: "d", Version: 5, Publishers: []proto.Publisher{{RegisterID: "r1", Version: 1}}}
	e.hash = e.datum.Hash()
	other := proto.PublisherHash("r2", 1)

	for _, tc := range []struct {
		notice  proto.DatumVersion
		current bool
		fires   uint64
	}{
		{proto.DatumVersion{DataInfoID: "d", Version: 5, Hash: e.hash}, true, 5},
		{proto.DatumVersion{DataInfoID: "d", Version: 5}, true, 5},
		{proto.DatumVersion{DataInfoID: "d", Version: 5, Hash: other}, false, math.MaxUint64},
		{proto.DatumVersion{DataInfoID: "d", Version: 6, Hash: e.hash}, false, 6},
	} {
		if got := e.current(tc.notice); got != tc.current {
			t.Errorf("current(%+v) = %v, want %v", tc.notice, got, tc.current)
		}
		p.notified(tc.notice)
		select {
		case v := <-fired:
			if v != tc.fires {
				t.Errorf("notice %+v fired version %d, want %d", tc.notice, v, tc.fires)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("notice %+v never fired", tc.notice)
		}
	}
}
