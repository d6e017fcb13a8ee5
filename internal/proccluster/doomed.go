package proccluster

import (
	"context"
	"fmt"
	"time"

	"github.com/roster-registry/roster/client"
)

// Doomed is an SDK client of its own whose publishers are killed with it,
// as when a service's process dies while the registry is down: from then
// on every subscriber must end without them (issue 16).
type Doomed struct {
	w    *Workload
	c    *client.Client
	pubs []*pubRec
}

// AddDoomed connects a client of its own and publishes on it one more
// publisher on each of the first shared services, and the only publisher
// of alone new services, each subscribed to on a workload client. Neither
// the doomed publishers nor the new services are churned. Call it while
// the churn is stopped.
func (w *Workload) AddDoomed(ctx context.Context, shared, alone int) (*Doomed, error) {
	c, err := client.New(ctx, client.Config{Sessions: w.cfg.Sessions, AppName: w.cfg.Prefix + "-doomed",
		Logger: w.cfg.Logger.With("client", "doomed"), BackoffMin: 20 * time.Millisecond, BackoffMax: 500 * time.Millisecond})
	if err != nil {
		return nil, fmt.Errorf("cannot connect the doomed client: %w", err)
	}
	d := &Doomed{w: w, c: c}
	publish := func(svc *service) error {
		pr := &pubRec{id: "p" + fmt.Sprint(w.pubSeq.Add(1)), client: -1, version: 1, fixed: true}
		w.pubs.Store(pr.id, pr)
		start := time.Now()
		p, err := c.Publish(ctx, client.Publication{DataID: svc.dataID, Data: []string{pr.data()}})
		pr.track(fmt.Sprintf("publish v1 on the doomed client (err %v)", err), start)
		if err != nil {
			pr.gone.Store(true)
			return fmt.Errorf("cannot publish to %s: %w", svc.dataID, err)
		}
		pr.p = p
		svc.mu.Lock()
		svc.pubs = append(svc.pubs, pr)
		svc.mu.Unlock()
		d.pubs = append(d.pubs, pr)
		return nil
	}
	for _, svc := range w.services[:min(shared, len(w.services))] {
		if err := publish(svc); err != nil {
			d.Kill()
			return nil, err
		}
	}
	for range alone {
		n := w.pubSeq.Add(1) // numbers the service too: unique across calls
		svc := &service{dataID: fmt.Sprintf("%s.Doomed%06d:1.0", w.cfg.Prefix, n), fixed: true}
		if err := publish(svc); err != nil {
			d.Kill()
			return nil, err
		}
		sr := &subRec{svc: svc, client: int(n) % len(w.clients)}
		s, err := w.clients[sr.client].Subscribe(ctx, client.Subscription{DataID: svc.dataID, Scope: client.ScopeDataCenter},
			func(u client.Update) { w.onUpdate(sr, u) })
		if err != nil {
			d.Kill()
			return nil, fmt.Errorf("cannot subscribe to %s: %w", svc.dataID, err)
		}
		sr.s, svc.sub = s, sr
		w.services = append(w.services, svc)
	}
	return d, nil
}

// Kill closes the client without unregistering anything, as when its
// process is killed; its publishers are gone from the model at once.
func (d *Doomed) Kill() {
	for _, pr := range d.pubs {
		pr.gone.Store(true)
	}
	_ = d.c.Close()
}

// Len is the number of publishers the doomed client holds.
func (d *Doomed) Len() int { return len(d.pubs) }
