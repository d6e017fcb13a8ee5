package loadgen

import "sync/atomic"

// published is what loadgen has published: the send time of each
// publisher's current data (0 while it is not published). Publisher n
// belongs to service n / perService.
type published struct {
	perService int
	t          []atomic.Int64
}

func newPublished(services, perService int) *published {
	return &published{perService: perService, t: make([]atomic.Int64, services*perService)}
}

// set records publisher n's current send time.
func (p *published) set(n int, t int64) { p.t[n].Store(t) }

// diff compares a subscriber's list of service s with what was published.
// lost counts live publishers absent from the list; stale counts entries
// that are not current: an older send time of a live publisher, a
// duplicate, or an entry of a publisher that is not published (or not of
// this service).
func (p *published) diff(s int, list []string) (lost, stale int) {
	first := s * p.perService
	// Small fixed fan-in: a bitmap of the publishers found beats a map.
	found := make([]bool, p.perService)
	for _, e := range list {
		n, t, _, ok := parseData(e)
		if !ok || n < first || n >= first+p.perService {
			stale++
			continue
		}
		want := p.t[n].Load()
		if want == 0 || t != want || found[n-first] {
			stale++
		}
		found[n-first] = true
	}
	for i, ok := range found {
		if !ok && p.t[first+i].Load() != 0 {
			lost++
		}
	}
	return lost, stale
}
