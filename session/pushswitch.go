package session

// setStopped applies the cluster-wide push switch (push.Engine.SetStopped).
func (s *Server) setStopped(stop bool) {
	if s.push.SetStopped(stop) {
		s.log.Info("push switch applied", "stopped", stop)
	}
}

// PushStopped reports whether pushes are stopped by the cluster-wide switch
// (but to the gray list's IPs, when it has some: pushgate.go).
func (s *Server) PushStopped() bool {
	g := s.gate.Load()
	return s.push.Stopped() || g != nil && g.stopped
}
