package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-registry/roster/client"
)

// dcLoad is the DC faults' own workload: dcServices services, each with one
// publisher in either data center and a global subscriber in either, so
// that every subscriber must hold exactly the two publishers, each at its
// latest data: its own data center's and the other's, imported. A churn
// republishes them on both sides. A publisher is never removed, so one
// missing from a push after a push showed it is a flap.
type dcLoad struct {
	svcs  []string
	sides [2]*dcSide

	recording atomic.Bool
	flaps     atomic.Int64
	violMu    sync.Mutex
	first     []string

	churnCancel context.CancelFunc
	churnWG     sync.WaitGroup
}

// dcSide is one data center's client of the dcLoad.
type dcSide struct {
	name string
	cl   *client.Client
	pubs []*client.Publisher
	subs []*client.Subscriber

	mu   sync.Mutex
	data []string // per service: what its publisher here last published
	ver  []int
	seen []map[string]bool // per service: the publishers the last push here showed
}

const (
	dcServices = 20
	dcRate     = 5 // republishes per second on each side
)

// newDCLoad connects a client to each data center's sessions (sessions[i]
// for names[i]), publishes every service on both and subscribes globally.
func newDCLoad(ctx context.Context, names [2]string, sessions [2][]string, log *slog.Logger) (*dcLoad, error) {
	l := &dcLoad{}
	for k := range dcServices {
		l.svcs = append(l.svcs, fmt.Sprintf("chaos.dc.Service%03d:1.0", k))
	}
	for i, name := range names {
		cl, err := client.New(ctx, client.Config{Sessions: sessions[i], AppName: "chaos-" + name, Logger: log.With("dc", name),
			BackoffMin: 20 * time.Millisecond, BackoffMax: 500 * time.Millisecond})
		if err != nil {
			l.close()
			return nil, fmt.Errorf("cannot connect the client of %s: %w", name, err)
		}
		s := &dcSide{name: name, cl: cl, data: make([]string, dcServices), ver: make([]int, dcServices), seen: make([]map[string]bool, dcServices)}
		l.sides[i] = s
		for k, id := range l.svcs {
			s.ver[k] = 1
			s.data[k] = s.datum(k, 1)
			p, err := cl.Publish(ctx, client.Publication{DataID: id, Data: []string{s.data[k]}})
			if err != nil {
				l.close()
				return nil, fmt.Errorf("cannot publish %s in %s: %w", id, name, err)
			}
			s.pubs = append(s.pubs, p)
			sub, err := cl.Subscribe(ctx, client.Subscription{DataID: id, Scope: client.ScopeGlobal},
				func(u client.Update) { l.onUpdate(s, k, u) })
			if err != nil {
				l.close()
				return nil, fmt.Errorf("cannot subscribe to %s in %s: %w", id, name, err)
			}
			s.subs = append(s.subs, sub)
		}
	}
	return l, nil
}

// datum is the data of service k's publisher here at version v; the part
// before "#v" names the publisher.
func (s *dcSide) datum(k, v int) string {
	return s.name + "-" + strconv.Itoa(k) + "#v" + strconv.Itoa(v)
}

func (l *dcLoad) onUpdate(s *dcSide, k int, u client.Update) {
	cur := make(map[string]bool)
	for _, a := range u.Addresses() {
		id, _, _ := strings.Cut(a, "#v")
		cur[id] = true
	}
	s.mu.Lock()
	prev := s.seen[k]
	s.seen[k] = cur
	s.mu.Unlock()
	if !l.recording.Load() {
		return
	}
	for id := range prev {
		if !cur[id] {
			l.flaps.Add(1)
			l.violMu.Lock()
			if len(l.first) < 5 {
				l.first = append(l.first, fmt.Sprintf("%s %s: %s's global subscriber lost %s (update version %d)",
					time.Now().Format("15:04:05.000"), l.svcs[k], s.name, id, u.Version))
			}
			l.violMu.Unlock()
		}
	}
}

// takeFlaps returns and clears the flaps seen so far, with the first few
// described.
func (l *dcLoad) takeFlaps() (int64, []string) {
	l.violMu.Lock()
	defer l.violMu.Unlock()
	first := l.first
	l.first = nil
	return l.flaps.Swap(0), first
}

// want is what every global subscriber of service k must hold.
func (l *dcLoad) want(k int) []string {
	var out []string
	for _, s := range l.sides {
		s.mu.Lock()
		out = append(out, s.data[k])
		s.mu.Unlock()
	}
	slices.Sort(out)
	return out
}

// dcWrong describes what the global subscribers of one data center lack.
type dcWrong struct {
	subs    int    // subscribers whose list is not exactly want
	missing int    // publishers of want absent from their lists at any version
	first   string // the first wrong one, described
}

// wrong compares every subscriber with the model, per data center. Call
// it without churn running.
func (l *dcLoad) wrong() [2]dcWrong {
	var out [2]dcWrong
	for i, s := range l.sides {
		for k, sub := range s.subs {
			want := l.want(k)
			u, ok := sub.Current()
			got := u.Addresses()
			if ok && slices.Equal(got, want) {
				continue
			}
			out[i].subs++
			for _, w := range want {
				id, _, _ := strings.Cut(w, "#v")
				if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, id+"#v") }) {
					out[i].missing++
				}
			}
			if out[i].first == "" {
				out[i].first = fmt.Sprintf("%s in %s: want %v, got %v (pushed %v)", l.svcs[k], s.name, want, got, ok)
			}
		}
	}
	return out
}

// startChurn republishes the services round-robin on both sides at dcRate
// each, until stopChurn.
func (l *dcLoad) startChurn() {
	if l.churnCancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.churnCancel = cancel
	for _, s := range l.sides {
		l.churnWG.Add(1)
		go func() {
			defer l.churnWG.Done()
			s.churn(ctx)
		}()
	}
}

// stopChurn stops the churn and waits for its calls to return.
func (l *dcLoad) stopChurn() {
	if l.churnCancel == nil {
		return
	}
	l.churnCancel()
	l.churnWG.Wait()
	l.churnCancel = nil
}

// churn republishes one service after another. The model takes the new
// data before the call: on any error but a refusal the SDK keeps it and
// replays it, so it is what the registry ends with.
func (s *dcSide) churn(ctx context.Context) {
	tick := time.NewTicker(time.Second / dcRate)
	defer tick.Stop()
	for k := 0; ; k = (k + 1) % len(s.pubs) {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		s.mu.Lock()
		prev := s.data[k]
		s.ver[k]++
		s.data[k] = s.datum(k, s.ver[k])
		next := s.data[k]
		s.mu.Unlock()
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := s.pubs[k].Republish(rctx, next)
		cancel()
		var se *client.ServerError
		if errors.As(err, &se) {
			s.mu.Lock()
			s.data[k] = prev
			s.mu.Unlock()
		}
	}
}

func (l *dcLoad) close() {
	l.stopChurn()
	for _, s := range l.sides {
		if s != nil {
			_ = s.cl.Close()
		}
	}
}
