package session_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/roster-registry/roster/data"
	"github.com/roster-registry/roster/internal/testcluster"
	"github.com/roster-registry/roster/slotstore"
)

// TestSessionSyncBySums: a slot leader's periodic comparison with a session
// settles by their sums while the two agree, and still repairs the leader
// when they do not (here: the leader lost a slot's publishers).
func TestSessionSyncBySums(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Data: func(cfg *data.Config) { cfg.SyncInterval = 200 * time.Millisecond }})
	cl := newClient(t, c.SessionAddrs(), "")
	for i := range 4 {
		publish(t, cl, fmt.Sprintf("com.example.Sum%d", i), fmt.Sprintf("h%d:1", i))
	}
	store := c.Data[0].Store()
	id := slotstore.DataInfoID("com.example.Sum0", "", "")
	held := func() bool { return len(store.Datum(id).Publishers) == 1 }
	testcluster.Eventually(t, 10*time.Second, held, "the leader to hold the publisher")
	same := counter(t, "roster_data_session_syncs_same_total")
	testcluster.Eventually(t, 10*time.Second, func() bool { return counter(t, "roster_data_session_syncs_same_total") >= same+10 },
		"comparisons to settle by equal sums")

	// The leader loses what it held of the slot, the session does not: the
	// sums differ, the digests are compared and the publisher comes back.
	store.DropSlot(store.SlotOf(id))
	if held() {
		t.Fatal("the publisher is still held after its slot was dropped")
	}
	testcluster.Eventually(t, 10*time.Second, held, "the comparison to bring the publisher back")
	same = counter(t, "roster_data_session_syncs_same_total")
	testcluster.Eventually(t, 10*time.Second, func() bool { return counter(t, "roster_data_session_syncs_same_total") >= same+10 },
		"comparisons to settle by sums again once repaired")
}
