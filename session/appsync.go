package session

import (
	"context"
	"slices"
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
		a.query(ctx, ifaces, revs, &reply)
		clear(ifaces) // not kept alive till the next scan
		clear(revs)
	}
}

// query asks meta for revs and ifaces, appQueryChunk names at a time, and
// learns the answers; reply is reused from one call to the next.
func (a *appState) query(ctx context.Context, ifaces, revs []string, reply *proto.AppQueryReply) {
	for (len(ifaces) > 0 || len(revs) > 0) && ctx.Err() == nil {
		q := proto.AppQuery{Revisions: revs[:min(len(revs), appQueryChunk)]}
		q.Interfaces = ifaces[:min(len(ifaces), appQueryChunk-len(q.Revisions))]
		revs, ifaces = revs[len(q.Revisions):], ifaces[len(q.Interfaces):]
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := a.meta.call(rctx, &q, reply)
		cancel()
		if err != nil {
			// What was pending is asked again at the next scan.
			a.s.logThrottled("cannot query app metadata", "err", err)
			return
		}
		a.learn(reply.Revisions, reply.Index)
	}
}

// appQueryChunk bounds the names of one AppQuery (meta refuses more than 4096).
const appQueryChunk = 1024

// appendInterestIDs appends to dst every dataInfoId data nodes must notify
// this session of: the subscribed ones (but the watched config's, which
// meta's copy answers) and the followed application datums.
func (s *Server) appendInterestIDs(dst []string) []string {
	n := len(dst)
	dst = s.push.AppendSubscribedIDs(dst)
	dst = append(dst[:n], slices.DeleteFunc(dst[n:], proto.IsConfigID)...)
	return s.apps.appendFollowedIDs(dst)
}
