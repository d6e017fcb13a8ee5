package session

import (
	"context"
	"time"

	"github.com/roster-registry/roster/proto"
)

// run asks meta for the applications of newly watched interfaces and for
// unknown revisions as they come, and for every watched interface each scan
// interval: an application that starts serving an interface through another
// session is learned within that interval.
func (a *appState) run(ctx context.Context) {
	defer a.meta.close()
	every := a.s.scanInterval()
	t := time.NewTicker(every)
	defer t.Stop()
	// Kept across scans, as links.scan keeps its slices: an idle session
	// asks for every watched interface each scan.
	var (
		ifaces, revs []string
		reply        proto.AppQueryReply
		// known is the index version every watched interface's answer
		// was read at (zero: not known): a scan that sends it is answered
		// Unchanged while the index is still there.
		known proto.AppIndexVersion
	)
	for {
		all := false
		select {
		case <-ctx.Done():
			return
		case <-a.wake:
		case <-t.C:
			all = true
			if d := a.s.scanInterval(); d != every { // a switch changed it
				every = d
				t.Reset(d)
			}
		}
		a.mu.Lock()
		// A scan sends known unless an interface was watched since: an
		// answer Unchanged answers none, and that one needs its answer.
		var send proto.AppIndexVersion
		if all && len(a.pending) == 0 {
			send = known
		}
		ifaces, revs = ifaces[:0], revs[:0]
		for iface := range a.watched {
			if all || a.pending[iface] {
				ifaces = append(ifaces, iface)
			}
		}
		if len(a.pending) > 0 {
			a.pending = make(map[string]bool) // a map keeps a subscribe burst's buckets
		}
		for rev := range a.wantRevs {
			revs = append(revs, rev)
		}
		a.mu.Unlock()
		switch read, ok := a.query(ctx, ifaces, revs, send, &reply); {
		case !ok:
			known = proto.AppIndexVersion{} // the next scan asks for everything, what was pending too
		case all && read.Epoch != 0:
			known = read // every watched interface's answer is as of read
		}
		clear(ifaces) // not kept alive till the next scan
		clear(revs)
	}
}

// query asks meta for revs and ifaces, appQueryChunk names at a time, and
// learns the answers; reply is reused from one call to the next. The first
// query sends known (zero: none), and once meta answers that its index is
// still there, no interface is asked. It returns the index version every
// answer of ifaces was read at (zero if they differ, or meta sends none),
// and false if a query failed.
func (a *appState) query(ctx context.Context, ifaces, revs []string, known proto.AppIndexVersion,
	reply *proto.AppQueryReply) (read proto.AppIndexVersion, ok bool) {
	answered := false
	for (len(ifaces) > 0 || len(revs) > 0) && ctx.Err() == nil {
		q := proto.AppQuery{Revisions: revs[:min(len(revs), appQueryChunk)], Known: known}
		q.Interfaces = ifaces[:min(len(ifaces), appQueryChunk-len(q.Revisions))]
		revs, ifaces = revs[len(q.Revisions):], ifaces[len(q.Interfaces):]
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := a.meta.call(rctx, &q, reply)
		cancel()
		if err != nil {
			a.s.logThrottled("cannot query app metadata", "err", err)
			return proto.AppIndexVersion{}, false
		}
		a.learn(reply.Revisions, reply.Index)
		switch {
		case reply.Unchanged:
			appScansUnchanged.Inc()
			ifaces = nil // every answer is held; revisions are still asked
			read, answered = reply.Version, true
		case !answered:
			known, read, answered = proto.AppIndexVersion{}, reply.Version, true
		case reply.Version != read:
			read = proto.AppIndexVersion{} // the index moved during the scan
		}
	}
	return read, ctx.Err() == nil
}

// appQueryChunk bounds the names of one AppQuery (meta refuses more than 4096).
const appQueryChunk = 1024

// appendInterestIDs appends to dst every dataInfoId data nodes must notify
// this session of: the subscribed ones (but the watched config's, which
// meta's copy answers) and the followed application datums.
func (s *Server) appendInterestIDs(dst []string) []string {
	s.push.RangeSubscribed(func(id string) {
		if !proto.IsConfigID(id) {
			dst = append(dst, id)
		}
	})
	return s.apps.appendFollowedIDs(dst)
}
