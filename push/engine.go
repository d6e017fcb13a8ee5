package push

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/puzpuzpuz/xsync/v3"

	"github.com/roster-registry/roster/internal/queue"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// Datum is a datum as a Source fetched it.
type Datum struct {
	Version uint64 // the data leader's version; 0: never written
	Hash    uint64 // proto.Datum.Hash
	// Settle is how long the datum's slot still settles after its leader
	// rebuilt it from nothing (proto.Datum.SettleMs).
	Settle     time.Duration
	Publishers List // as pushed: the engine keeps them
}

// Source fetches datums from their data leaders.
type Source interface {
	// Fetch returns datum id. When it is still cached (the same version
	// and hash), Publishers may be left nil: the engine keeps its list, so
	// the Source need not build one to be thrown away. own is the list
	// fetched last (nil: none); the new list may hold its records for the
	// publishers unchanged since, as records in a list are never changed.
	Fetch(ctx context.Context, id string, cached proto.DatumVersion, own List) (Datum, error)
}

// Merger adds to a datum's list what the session merges into it (the
// instances of the applications serving an interface), and follows datums
// nobody subscribes to for that purpose.
type Merger interface {
	// Merge returns the list to push for id, given its own publishers at
	// version, and the version to push it at (at least version). It is
	// called with id's entry locked: it must not call the engine.
	Merge(id string, own List, version uint64) (List, uint64)
	// Ready reports whether id may be pushed yet (what it merges is known).
	Ready(id string) bool
	// Follows reports whether id is wanted without subscribers.
	Follows(id string) bool
	// Fetched is told after id was fetched, with no engine lock held.
	Fetched(id string)
}

// Sender writes frames to client connections.
type Sender interface {
	// WriteShared queues one frame to every connection and returns to how
	// many it was queued.
	WriteShared(frame []byte, conns []*netio.Conn) (int, error)
	// Outbound is the bytes queued to every connection together.
	Outbound() int64
}

// Config tunes the engine; zero values take the defaults.
type Config struct {
	Debounce    time.Duration // see Debouncer; default 20ms
	MaxDebounce time.Duration // default 200ms
	Retry       time.Duration // least wait before resending an unacked push once a later one on its connection was acked (or 4 of the connection's ack times, if longer; four times as long with no later ack: Client.resendDue), doubling up to 30s; default 1s
	// PauseAbove: a connection with more bytes queued gets no pushes until
	// it drains; PauseTotal: while all connections together have more, one
	// with any gets none. Defaults 1 MiB and 64 MiB.
	PauseAbove, PauseTotal int
	CompressAbove          int  // frames larger are compressed for clients that accept it; default 4 KiB, <0 never
	DisableDelta           bool // always push full lists
	FetchWorkers           int  // concurrent fetches; default 64
	FetchTimeout           time.Duration
	// Gate, when set, says whether a client may be pushed to now (a push
	// switch per zone, a gray list): a client it refuses is left unsent,
	// as a slow reader is, and tried again by the retry loop; call PushAll
	// when the answer may have changed. It runs with a group locked: it
	// must not call the engine and may take only leaf locks (LOCKS.md).
	Gate func(c *Client) bool
	// DataCenter names this session's data center in the pushes to global
	// subscribers (proto.PushPublisher.DataCenter), whose lists also hold
	// the publishers of linked data centers.
	DataCenter string
	Logger     *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Debounce == 0 {
		c.Debounce = 20 * time.Millisecond
	}
	if c.MaxDebounce == 0 {
		c.MaxDebounce = 200 * time.Millisecond
	}
	if c.Retry <= 0 {
		c.Retry = time.Second
	}
	if c.PauseAbove == 0 {
		c.PauseAbove = 1 << 20
	}
	if c.PauseTotal == 0 {
		c.PauseTotal = 64 << 20
	}
	if c.CompressAbove == 0 {
		c.CompressAbove = 4 << 10
	}
	if c.CompressAbove < 0 {
		c.CompressAbove = math.MaxInt
	}
	if c.FetchWorkers <= 0 {
		c.FetchWorkers = 64
	}
	if c.FetchTimeout <= 0 {
		c.FetchTimeout = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// ErrOwned refuses a subscription whose registerId is another client's.
var ErrOwned = errors.New("registerId is another client's subscriber")

// Engine pushes datums to their subscribers: it owns the datum cache
// (versions, the frames built from them, history for deltas), the
// subscriber groups with their ack and retry state, the debouncer and the
// fetch workers. Work waits in explicit queues: groups scheduled for a
// push, datums to fetch, groups not every subscriber of which acknowledged
// (the only ones the retry loop visits) and fetches that failed.
type Engine struct {
	cfg   Config
	log   *slog.Logger
	src   Source
	merge Merger
	out   Sender

	cache    *xsync.MapOf[string, *entry]
	debounce *Debouncer
	stopped  atomic.Bool // the cluster-wide push switch
	// compressAbove is Config.CompressAbove, changed live by
	// SetCompressAbove.
	compressAbove atomic.Int64

	mu     sync.RWMutex // guards groups, numbered and freeNums; before group.mu (LOCKS.md)
	groups groupTable
	// numbered holds the groups by number (group.num; nil: free), which
	// clients list theirs by: 4 bytes a slot in a client's set, not 8.
	// freeNums are the free numbers, taken first, so the array is as long
	// as the most groups there were at once.
	numbered []*group
	freeNums []uint32
	// nsubs is the subscribers of every group, kept as they come and go:
	// the health check and the gauges read it each time, and walking every
	// group (100k a session at 10M subscribers) under mu held up pushes.
	nsubs atomic.Int64

	scheduled *queue.Set[string] // groups to push off the event loops
	fetches   *queue.Set[string] // datums to fetch

	umu sync.Mutex // a leaf: guards unsettled and retries
	// unsettled holds the groups some subscriber of which has not
	// acknowledged: the retry loop visits these only.
	unsettled queue.Keys[*group]
	retries   map[string]time.Time // failed fetches and when to try again
	retryWake chan struct{}        // a retry was added: fetchRetryLoop rearms its timer

	fetchLog, heldLog netio.LogThrottle

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns an engine; Start runs it.
func New(cfg Config, src Source, merge Merger, out Sender) *Engine {
	cfg.setDefaults()
	e := &Engine{cfg: cfg, log: cfg.Logger, src: src, merge: merge, out: out,
		cache:     xsync.NewMapOf[string, *entry](),
		scheduled: queue.New[string]("push_scheduled"), fetches: queue.New[string]("push_fetch"),
		retries: make(map[string]time.Time), retryWake: make(chan struct{}, 1)}
	e.debounce = NewDebouncer(cfg.Debounce, cfg.MaxDebounce, func(id string, version uint64) {
		e.changed(proto.DatumVersion{DataInfoID: id, Version: version})
	})
	e.compressAbove.Store(int64(cfg.CompressAbove))
	return e
}

// Start runs the engine's goroutines until Stop.
func (e *Engine) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.goRun(ctx, e.debounce.Run)
	e.goRun(ctx, e.pushLoop)
	e.goRun(ctx, e.retryLoop)
	e.goRun(ctx, e.fetchRetryLoop)
	for range e.cfg.FetchWorkers {
		e.goRun(ctx, e.fetchLoop)
	}
}

// Stop ends the engine's goroutines and waits for them.
func (e *Engine) Stop() {
	if e.cancel != nil {
		e.cancel()
	}
	e.wg.Wait()
}

func (e *Engine) goRun(ctx context.Context, fn func(context.Context)) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		fn(ctx)
	}()
}

// SetStopped applies the cluster-wide push switch. While stopped nothing
// is sent (fetches go on, so the cache stays current); on resume every
// group is pushed, which sends each subscriber whatever it has not
// acknowledged. It reports whether the switch changed.
func (e *Engine) SetStopped(stop bool) bool {
	if e.stopped.Swap(stop) == stop {
		return false
	}
	if !stop {
		e.PushAll()
	}
	return true
}

// PushAll schedules a push of every subscribed group, which sends each
// subscriber whatever it has not acknowledged.
func (e *Engine) PushAll() {
	for _, id := range e.SubscribedIDs() {
		e.scheduled.Add(id)
	}
}

// SetDebounce changes the debounce's delays (Config.Debounce and
// MaxDebounce); changes already pending keep their due time.
func (e *Engine) SetDebounce(delay, maxDelay time.Duration) { e.debounce.SetDelays(delay, maxDelay) }

// SetCompressAbove changes Config.CompressAbove (<0: never); frames already
// built keep theirs.
func (e *Engine) SetCompressAbove(n int) {
	if n < 0 {
		n = math.MaxInt
	}
	e.compressAbove.Store(int64(n))
}

// Sizes are the engine's caches and sets, for gauges: datums cached,
// groups some subscriber of which has not acknowledged, failed fetches
// waiting for their backoff and changes waiting in the debouncer.
func (e *Engine) Sizes() (cached, unsettled, retries, debouncing int) {
	e.umu.Lock()
	unsettled, retries = e.unsettled.Len(), len(e.retries)
	e.umu.Unlock()
	return e.cache.Size(), unsettled, retries, e.debounce.Pending()
}

// Stopped reports whether pushes are stopped cluster-wide.
func (e *Engine) Stopped() bool { return e.stopped.Load() }

func (e *Engine) entry(id string) *entry {
	if en, ok := e.cache.Load(id); ok {
		return en
	}
	// A copy: id may be part of a decoded frame, which the key would keep.
	key := strings.Clone(id)
	en, _ := e.cache.LoadOrCompute(key, func() *entry { return &entry{id: key} })
	return en
}

func (e *Engine) group(id string) *group {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.groups.get(id)
}

// newGroup makes id's group and numbers it. e.mu must be held.
func (e *Engine) newGroup(id string) *group {
	g := &group{id: id}
	if n := len(e.freeNums); n > 0 {
		g.num = e.freeNums[n-1]
		e.freeNums = e.freeNums[:n-1]
		e.numbered[g.num] = g
	} else {
		g.num = uint32(len(e.numbered))
		e.numbered = append(e.numbered, g)
	}
	e.groups.put(g)
	return g
}

// dropGroup forgets g, emptied, and frees its number. e.mu must be held.
func (e *Engine) dropGroup(g *group) {
	e.groups.del(g)
	e.numbered[g.num] = nil
	e.freeNums = append(e.freeNums, g.num)
	e.markSettled(g)
}

// groupsOf returns the groups numbered nums (from Client.groups), leaving
// out numbers freed since. A number may have gone to another group
// meanwhile: the caller finds none of the client's subscribers in it
// then, or ones the client added since.
func (e *Engine) groupsOf(nums []uint32) []*group {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]*group, 0, len(nums))
	for _, n := range nums {
		if int(n) < len(e.numbered) && e.numbered[n] != nil {
			out = append(out, e.numbered[n])
		}
	}
	return out
}

// markUnsettled puts g in the set the retry loop visits.
func (e *Engine) markUnsettled(g *group) {
	e.umu.Lock()
	e.unsettled.Add(g)
	e.umu.Unlock()
}

// markSettled takes g out of the retry loop's set.
func (e *Engine) markSettled(g *group) {
	e.umu.Lock()
	e.unsettled.Delete(g)
	e.umu.Unlock()
}

// isSettled reports whether g is out of the retry loop's set.
func (e *Engine) isSettled(g *group) bool {
	e.umu.Lock()
	defer e.umu.Unlock()
	return !e.unsettled.Has(g)
}
