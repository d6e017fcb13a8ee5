package data

import (
	"testing"
	"time"
)

// TestStoppingNodeKeepsGoneSessions: a data node that is stopping does not
// remove the publishers of a session gone meanwhile (every node of a data
// center stopping, sessions first: the removal would reach only linked
// data centers, and the restart brings the publishers back); a running
// node does.
func TestStoppingNodeKeepsGoneSessions(t *testing.T) {
	m := startMeta(t)
	d := startData(t, m)
	fs := dialSession(t, d.RPCAddr(), sessA)
	fs.write(t, pub(dataInfoID(1), "r1", 1, "10.0.0.1:1"))
	d.stopping.Store(true)
	d.sessions.known.Store(sessA, seenInView) // meta listed it once; it is not in the view now
	waitFor(t, "a view complete for a lease", func() bool {
		v := d.agent.View()
		return v.Lease > 0 && !v.Since.IsZero() && time.Since(v.Since) >= v.Lease && time.Since(d.agent.LastContact()) < v.Lease
	})
	d.reapSessions(time.Now())
	if n := d.store.Count(); n != 1 {
		t.Fatalf("a stopping node removed a gone session's publishers: %d left", n)
	}
	d.stopping.Store(false)
	waitFor(t, "the gone session's publishers removed", func() bool { return d.store.Count() == 0 })
}
