package proccluster

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-registry/roster/client"
)

// A Workload is a set of SDK clients in this process that publish and
// subscribe to many services, change them at a steady rate (churn), and
// keep a model of what every subscriber must end up with. Each publisher's
// data is one string "<id>#v<version>", so a subscriber's list says exactly
// which publishers it sees and at which version. The fault tests of this
// package and the chaos runner (bench/chaos) both drive clusters with it.

// WorkloadConfig describes a Workload.
type WorkloadConfig struct {
	Services int      // services, each with 2 publishers and 1 subscriber to start with
	Clients  int      // SDK clients; each is given every session address
	Sessions []string // session client addresses
	Rate     int      // churn operations per second
	Logger   *slog.Logger
	// Prefix starts every service name; "proccluster" when empty.
	Prefix string
}

// Workload is a churning set of publishers and subscribers with a model of
// what every subscriber must see. Its methods may be called from several
// goroutines, but StartChurn and StopChurn from one at a time.
type Workload struct {
	cfg      WorkloadConfig
	clients  []*client.Client
	services []*service
	pubs     sync.Map // publisher id -> *pubRec, for the handlers
	// describe adds to failure messages what the cluster says of a
	// dataInfoId (DumpService unless SetDescribe replaced it).
	describe func(c *Cluster, dataInfoID string) string
	pubSeq   atomic.Int64

	churnCancel context.CancelFunc
	churnWG     sync.WaitGroup
	ops         atomic.Int64
	opErrs      atomic.Int64
	errMu       sync.Mutex
	firstErrs   []string

	updates   atomic.Int64 // updates received by all handlers
	recording atomic.Bool  // check every update for vanished publishers
	violMu    sync.Mutex
	viol      []string
	nVanished atomic.Int64
	nBack     atomic.Int64
}

type service struct {
	dataID string
	fixed  bool // never churned (see AddDoomed)
	// mu serialises churn on the service and guards pubs, so the model
	// changes in the order the registry saw the calls.
	mu   sync.Mutex
	pubs []*pubRec
	sub  *subRec
}

type pubRec struct {
	id      string
	client  int
	p       *client.Publisher
	version int
	fixed   bool // never republished or unpublished by the churn (see AddDoomed)
	// gone is set before Unpublish is called (or when Publish failed): from
	// then on the publisher may legitimately vanish from a list.
	gone atomic.Bool
	// When the last call on it started and returned (unix ns), for failure
	// messages.
	callStart, callEnd atomic.Int64
	lastCall           atomic.Value // string
}

// track records a call on the publisher.
func (p *pubRec) track(what string, start time.Time) {
	p.lastCall.Store(what)
	p.callStart.Store(start.UnixNano())
	p.callEnd.Store(time.Now().UnixNano())
}

// describe says what was last done to the publisher and when.
func (p *pubRec) describe() string {
	what, _ := p.lastCall.Load().(string)
	return fmt.Sprintf("%s: %s %s..%s", p.id, what, time.Unix(0, p.callStart.Load()).Format("15:04:05.000"),
		time.Unix(0, p.callEnd.Load()).Format("15:04:05.000"))
}

func (p *pubRec) data() string { return p.id + "#v" + strconv.Itoa(p.version) }

type subRec struct {
	svc    *service
	client int
	s      *client.Subscriber
	mu     sync.Mutex
	prev   map[string]int // the last update: publisher id -> version
}

// OpTimeout bounds one churn call; calls retry across faults until it ends.
const OpTimeout = time.Minute

// NewWorkload connects cfg.Clients SDK clients and registers every service's
// publishers and subscriber. On error it closes what it opened.
func NewWorkload(ctx context.Context, cfg WorkloadConfig) (*Workload, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = "proccluster"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clients < 1 || cfg.Services < 1 || cfg.Rate < 1 {
		return nil, fmt.Errorf("cannot start workload: %w: Clients, Services and Rate must be positive", ErrOptions)
	}
	w := &Workload{cfg: cfg, describe: DumpService}
	for i := 0; i < cfg.Clients; i++ {
		c, err := client.New(ctx, client.Config{Sessions: cfg.Sessions, AppName: cfg.Prefix,
			Logger: cfg.Logger.With("client", i), BackoffMin: 20 * time.Millisecond, BackoffMax: 500 * time.Millisecond})
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("cannot connect workload client %d: %w", i, err)
		}
		w.clients = append(w.clients, c)
	}
	for k := 0; k < cfg.Services; k++ {
		w.services = append(w.services, &service{dataID: fmt.Sprintf("%s.Service%05d:1.0", cfg.Prefix, k)})
	}
	err := w.parallel(ctx, func(ctx context.Context, k int) error {
		svc := w.services[k]
		svc.mu.Lock()
		defer svc.mu.Unlock()
		// The two publishers sit on clients half the list apart, the
		// subscriber on a third one.
		for _, ci := range []int{k % cfg.Clients, (k + cfg.Clients/2) % cfg.Clients} {
			if err := w.publish(ctx, svc, ci); err != nil {
				return err
			}
		}
		sr := &subRec{svc: svc, client: (k + 1) % cfg.Clients}
		s, err := w.clients[sr.client].Subscribe(ctx, client.Subscription{DataID: svc.dataID, Scope: client.ScopeDataCenter},
			func(u client.Update) { w.onUpdate(sr, u) })
		if err != nil {
			return fmt.Errorf("cannot subscribe to %s: %w", svc.dataID, err)
		}
		sr.s, svc.sub = s, sr
		return nil
	})
	if err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// parallel runs f for every service index with bounded parallelism.
func (w *Workload) parallel(ctx context.Context, f func(ctx context.Context, k int) error) error {
	var (
		wg    sync.WaitGroup
		next  atomic.Int64
		errMu sync.Mutex
		first error
	)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= len(w.services) || ctx.Err() != nil {
					return
				}
				if err := f(ctx, k); err != nil {
					errMu.Lock()
					if first == nil {
						first = err
					}
					errMu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// Close stops the churn and closes every client.
func (w *Workload) Close() {
	w.StopChurn()
	w.recording.Store(false)
	for _, c := range w.clients {
		_ = c.Close()
	}
}

// Services is the number of services (and of subscribers).
func (w *Workload) Services() int { return len(w.services) }

// Clients are the workload's SDK clients.
func (w *Workload) Clients() []*client.Client { return w.clients }

// DataIDs are the services' dataIds, in order.
func (w *Workload) DataIDs() []string {
	out := make([]string, len(w.services))
	for i, s := range w.services {
		out[i] = s.dataID
	}
	return out
}

// Ops is the number of churn operations completed so far.
func (w *Workload) Ops() int64 { return w.ops.Load() }

// Updates is the number of updates the subscribers received so far.
func (w *Workload) Updates() int64 { return w.updates.Load() }

// SetDescribe replaces what failure messages say of a dataInfoId.
func (w *Workload) SetDescribe(f func(c *Cluster, dataInfoID string) string) { w.describe = f }

// SetRecording turns on or off the check of every update for live
// publishers that vanished or versions that went back.
func (w *Workload) SetRecording(on bool) { w.recording.Store(on) }

// publish adds a publisher to svc on client ci. svc.mu must be held.
func (w *Workload) publish(ctx context.Context, svc *service, ci int) error {
	pr := &pubRec{id: "p" + strconv.FormatInt(w.pubSeq.Add(1), 10), client: ci, version: 1}
	w.pubs.Store(pr.id, pr)
	start := time.Now()
	p, err := w.clients[ci].Publish(ctx, client.Publication{DataID: svc.dataID, Data: []string{pr.data()}})
	pr.track(fmt.Sprintf("publish v1 on client %d (err %v)", ci, err), start)
	if err != nil {
		pr.gone.Store(true)
		return fmt.Errorf("cannot publish to %s: %w", svc.dataID, err)
	}
	pr.p = p
	svc.pubs = append(svc.pubs, pr)
	return nil
}

// onUpdate records an update and, while recording, checks that no
// publisher a previous update showed has vanished unless it was
// unpublished, and that no publisher's version went back.
func (w *Workload) onUpdate(sr *subRec, u client.Update) {
	w.updates.Add(1)
	cur := make(map[string]int)
	for _, a := range u.Addresses() {
		id, v, _ := strings.Cut(a, "#v")
		n, _ := strconv.Atoi(v)
		cur[id] = n
	}
	sr.mu.Lock()
	prev := sr.prev
	sr.prev = cur
	sr.mu.Unlock()
	if !w.recording.Load() {
		return
	}
	for id, pv := range prev {
		v, ok := cur[id]
		switch {
		case !ok:
			if pr, found := w.pubs.Load(id); !found || !pr.(*pubRec).gone.Load() {
				w.nVanished.Add(1)
				w.violation("%s: live publisher %s vanished (update version %d)", sr.svc.dataID, id, u.Version)
			}
		case v < pv:
			w.nBack.Add(1)
			w.violation("%s: publisher %s went back from v%d to v%d (update version %d)", sr.svc.dataID, id, pv, v, u.Version)
		}
	}
}

func (w *Workload) violation(format string, args ...any) {
	w.violMu.Lock()
	defer w.violMu.Unlock()
	if len(w.viol) < 20 {
		w.viol = append(w.viol, time.Now().Format("15:04:05.000 ")+fmt.Sprintf(format, args...))
	}
}

// Violations counts what the recording saw since the last TakeViolations.
type Violations struct {
	Vanished int64    // a live publisher missing from an update after an update showed it
	Back     int64    // a publisher's version lower than in the update before
	First    []string // the first few, described
}

// Total is Vanished + Back.
func (v Violations) Total() int64 { return v.Vanished + v.Back }

// TakeViolations returns and clears the violations recorded so far.
func (w *Workload) TakeViolations() Violations {
	w.violMu.Lock()
	defer w.violMu.Unlock()
	v := Violations{Vanished: w.nVanished.Swap(0), Back: w.nBack.Swap(0), First: w.viol}
	w.viol = nil
	return v
}

// StartChurn changes random services at cfg.Rate operations per second:
// mostly republishes, some publishers added on a random client and some
// removed (every service keeps 1 to 4 publishers). It does nothing if the
// churn runs.
func (w *Workload) StartChurn() {
	if w.churnCancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.churnCancel = cancel
	tokens := make(chan struct{}, 8)
	w.churnWG.Add(1)
	go func() {
		defer w.churnWG.Done()
		defer close(tokens)
		tick := time.NewTicker(time.Second / time.Duration(w.cfg.Rate))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			select {
			case tokens <- struct{}{}:
			default: // workers are stuck in a fault: do not pile up work
			}
		}
	}()
	for i := range 16 {
		w.churnWG.Add(1)
		go func() {
			defer w.churnWG.Done()
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
			for range tokens {
				w.churnOne(rng)
			}
		}()
	}
}

// StopChurn stops the churn and waits for the calls in flight.
func (w *Workload) StopChurn() {
	if w.churnCancel == nil {
		return
	}
	w.churnCancel()
	w.churnWG.Wait()
	w.churnCancel = nil
}

// ChurnOps churns until n more operations completed, then stops.
func (w *Workload) ChurnOps(ctx context.Context, n int64) error {
	target := w.ops.Load() + n
	w.StartChurn()
	defer w.StopChurn()
	return Poll(ctx, 20*time.Millisecond, fmt.Sprintf("%d churn operations", n), func(context.Context) (bool, error) {
		return w.ops.Load() >= target, nil
	})
}

// ChurnFor churns for d (or until ctx ends), then stops.
func (w *Workload) ChurnFor(ctx context.Context, d time.Duration) {
	w.StartChurn()
	defer w.StopChurn()
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func (w *Workload) churnOne(rng *rand.Rand) {
	svc := w.services[rng.IntN(len(w.services))]
	if svc.fixed {
		return
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), OpTimeout)
	defer cancel()
	var err error
	churnable := make([]*pubRec, 0, len(svc.pubs))
	for _, pr := range svc.pubs {
		if !pr.fixed {
			churnable = append(churnable, pr)
		}
	}
	switch r := rng.IntN(100); {
	case r < 15 && len(svc.pubs) < 4 || len(churnable) == 0:
		err = w.publish(ctx, svc, rng.IntN(len(w.clients)))
	case r < 30 && len(churnable) > 1:
		pr := churnable[rng.IntN(len(churnable))]
		pr.gone.Store(true)
		svc.pubs = slices.DeleteFunc(svc.pubs, func(p *pubRec) bool { return p == pr })
		// A failed Unpublish still removes it: the client retries in the background.
		start := time.Now()
		err = pr.p.Unpublish(ctx)
		pr.track(fmt.Sprintf("unpublish on client %d (err %v)", pr.client, err), start)
	default:
		pr := churnable[rng.IntN(len(churnable))]
		pr.version++
		// A failed Republish keeps the new data for the next replay.
		start := time.Now()
		err = pr.p.Republish(ctx, pr.data())
		pr.track(fmt.Sprintf("republish v%d on client %d (err %v)", pr.version, pr.client, err), start)
	}
	w.ops.Add(1)
	if err != nil {
		w.opErrs.Add(1)
		w.errMu.Lock()
		if len(w.firstErrs) < 5 {
			w.firstErrs = append(w.firstErrs, err.Error())
		}
		w.errMu.Unlock()
	}
}

// TakeOpErrors returns and clears how many churn calls failed (each after
// retrying for OpTimeout) since the last call, and the first few errors.
func (w *Workload) TakeOpErrors() (int64, []string) {
	n := w.opErrs.Swap(0)
	w.errMu.Lock()
	defer w.errMu.Unlock()
	errs := w.firstErrs
	w.firstErrs = nil
	return n, errs
}
