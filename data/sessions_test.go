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

// TestHeardSessionKeepsItsPublishers: meta lets a session's lease end while
// it lives (its heartbeats unheard on a starved machine); it still talks to
// this node, so its publishers stay, and go once its link closes.
func TestHeardSessionKeepsItsPublishers(t *testing.T) {
	m := startMeta(t)
	d := startData(t, m)
	fs := dialSession(t, d.RPCAddr(), sessA)
	fs.hello(t)
	fs.write(t, pub(dataInfoID(1), "r1", 1, "10.0.0.1:1"))
	d.sessions.known.Store(sessA, seenInView) // meta listed it once; it is not in the view now
	var lease time.Duration
	waitFor(t, "a view complete for a lease", func() bool {
		v := d.agent.View()
		lease = v.Lease
		return v.Lease > 0 && !v.Since.IsZero() && time.Since(v.Since) >= v.Lease && time.Since(d.agent.LastContact()) < v.Lease
	})
	for end := time.Now().Add(2 * lease); time.Now().Before(end); time.Sleep(lease / 10) {
		fs.hello(t) // what its link's heartbeats do
		d.reapSessions(time.Now())
		if n := d.store.Count(); n != 1 {
			t.Fatalf("the publishers of a session still heard were removed: %d left", n)
		}
	}
	if d.m.reapsDeferred.Get() == 0 {
		t.Fatal("no deferred reap counted")
	}
	_ = fs.link.Close()
	waitFor(t, "the publishers removed once its link closed", func() bool { return d.store.Count() == 0 })
}
