package session

import "context"

// setStopped applies the cluster-wide push switch. While stopped, pushGroup
// sends nothing (fetches go on, so the cache stays current); on resume every
// group is pushed at once, which sends each subscriber whatever version it
// has not acknowledged.
func (p *pusher) setStopped(stop bool) {
	if p.stopped.Swap(stop) == stop {
		return
	}
	p.s.log.Info("push switch applied", "stopped", stop)
	if stop {
		return
	}
	p.s.goRun(p.pushAll)
}

// pushAll pushes every subscribed group, as one round of the retry loop.
func (p *pusher) pushAll(ctx context.Context) {
	for _, g := range p.s.reg.allGroups() {
		if ctx.Err() != nil || p.stopped.Load() {
			return
		}
		p.pushGroup(g.dataInfoID)
	}
}

// PushStopped reports whether pushes are stopped by the cluster-wide switch.
func (s *Server) PushStopped() bool { return s.pusher.stopped.Load() }
