package loadgen

import (
	"slices"
	"time"
)

// slowKeep is how many of the slowest churn changes a run reports.
const slowKeep = 10

// SlowChange is one churn change among a run's slowest: when it was sent
// and its slowest push. The times of a tail let it be laid beside the
// server's and the load generator's collections (GODEBUG=gctrace=1) or
// other events; a histogram keeps no times.
type SlowChange struct {
	Sent time.Time `json:"sent"`
	Ms   float64   `json:"ms"`
}

// slowest keeps the slowest slowKeep changes seen, each once (its hundred
// subscribers see it at a hundred latencies: the slowest counts), slowest
// first.
type slowest []SlowChange

// add records a push of the change sent at sent (unix ns) seen after d.
func (s *slowest) add(sent int64, d time.Duration) {
	ms := float64(d) / float64(time.Millisecond)
	// Most pushes are not among the slowest (and a change kept is at
	// least as slow as the last kept): nothing to look up.
	if len(*s) == slowKeep && ms <= (*s)[slowKeep-1].Ms {
		return
	}
	at := time.Unix(0, sent)
	if i := slices.IndexFunc(*s, func(c SlowChange) bool { return c.Sent.Equal(at) }); i >= 0 {
		if ms <= (*s)[i].Ms {
			return
		}
		*s = slices.Delete(*s, i, i+1)
	}
	i, _ := slices.BinarySearchFunc(*s, ms, func(c SlowChange, ms float64) int {
		switch {
		case c.Ms > ms:
			return -1
		case c.Ms < ms:
			return 1
		}
		return 0
	})
	*s = slices.Insert(*s, i, SlowChange{Sent: at, Ms: ms})
	if len(*s) > slowKeep {
		*s = (*s)[:slowKeep]
	}
}

// merge adds another recorder's slowest.
func (s *slowest) merge(o slowest) {
	for _, c := range o {
		s.add(c.Sent.UnixNano(), time.Duration(c.Ms*float64(time.Millisecond)))
	}
}
