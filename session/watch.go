package session

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/push"
)

// Watched config (meta/watchconfig.go) reaches clients as datums: a
// watcher is a subscriber of proto.ConfigDataInfoID(key), and the push
// engine's Source answers those ids from this session's copy of meta's
// keys instead of a data node. So watchers get what subscribers get for
// free: acks, resends with backoff, slow-reader pauses, the push switches,
// and a replay when a client reconnects (to this or another session).
//
// The copy follows meta through one ConfigFetch parked at the leader:
// answered as soon as a key changes, so a change reaches the session in
// one round trip and its watchers after the push debounce. A fetch the
// leader does not answer within configWait is simply sent again; every
// answer lists every key with its version, so a lost change is repaired
// by the next answer (the repair scan of the watched config).

// configWait is how long the leader may hold a fetch: a bound on how long
// a dead link goes unnoticed, not on how fast a change arrives.
const configWait = 20 * time.Second

// configKeepAlive heartbeats the config link: meta closes a node link
// silent for three node leases (a few seconds in tests), and a parked
// fetch sends nothing.
const configKeepAlive = time.Second

// maxConfigTombs bounds the versions of deleted keys kept (their absence
// is pushed at that version; past the bound, at the set's revision).
const maxConfigTombs = proto.MaxConfigKeys

var (
	configSets      = metrics.NewCounter("roster_session_watch_config_sets_total")
	configKeyPushes = metrics.NewCounter("roster_session_watch_config_changes_total")
)

// errConfigLoading fails a fetch of a config datum before the first copy
// arrived: the push engine retries it, and the first copy refetches it.
var errConfigLoading = errors.New("the watched config is not loaded from meta yet")

type configValue struct {
	version uint64
	value   string
}

// configCopy is the session's copy of the watched config. mu is a leaf.
type configCopy struct {
	s    *Server
	meta *metaCaller // a link of its own: a parked fetch holds a request open

	mu      sync.Mutex
	loaded  bool
	rev     uint64 // the revision of the set held; 0 asks for all of it
	since   uint64 // the highest version held
	entries map[string]configValue
	tombs   map[string]uint64 // deleted keys: the version their absence is pushed at
}

func newConfigCopy(s *Server) *configCopy {
	return &configCopy{s: s, meta: &metaCaller{addrs: s.cfg.MetaAddrs, s: s, keepAlive: configKeepAlive},
		entries: make(map[string]configValue), tombs: make(map[string]uint64)}
}

// datum is the push engine's view of config key id.
func (c *configCopy) datum(id string) (push.Datum, error) {
	key, _ := proto.ConfigKeyOf(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		return push.Datum{}, errConfigLoading
	}
	e, ok := c.entries[key]
	if !ok {
		// Never written: version 0, as a data node answers an empty
		// datum; deleted: the deletion's version, so the absence is new.
		return push.Datum{Version: c.tombs[key]}, nil
	}
	return push.Datum{Version: e.version, Hash: proto.PublisherHash(proto.ConfigPublisherID, e.version),
		Publishers: push.ListOf([]proto.PushPublisher{{RegisterID: proto.ConfigPublisherID, Version: e.version, Data: []string{e.value}}})}, nil
}

// run keeps the copy up to date until ctx is done.
func (c *configCopy) run(ctx context.Context) {
	defer c.meta.close()
	failures := 0
	for ctx.Err() == nil {
		c.mu.Lock()
		req := proto.ConfigFetch{Rev: c.rev, Since: c.since}
		if c.loaded {
			// Parked until the set changes, also when it is empty
			// (revision 0): asking without a wait got an answer at once,
			// and with no key written every session asked again and again.
			req.WaitMs = uint32(configWait.Milliseconds())
		}
		c.mu.Unlock()
		err := c.fetch(ctx, &req)
		switch {
		case err == nil:
			failures = 0
		case ctx.Err() != nil:
			return
		case errors.Is(err, context.DeadlineExceeded) && req.WaitMs > 0:
			// Nothing changed while the leader held the fetch: ask again.
		default:
			failures++
			c.s.logThrottled("cannot fetch the watched config from meta", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(fetchBackoff(failures)):
			}
		}
	}
}

// fetchBackoff is the wait after the n-th failed fetch in a row. Its cap
// is short: during a meta failover every failure is a wait, and a change
// written on the new leader reaches sessions at most this long after it
// leads (one small request per session per wait meanwhile).
func fetchBackoff(n int) time.Duration {
	return min(50*time.Millisecond<<min(n, 10), 500*time.Millisecond)
}

// fetch sends one ConfigFetch and applies the answer. The link is kept
// when the leader merely held the fetch past its wait.
func (c *configCopy) fetch(ctx context.Context, req *proto.ConfigFetch) error {
	l, err := c.meta.get(ctx)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, time.Duration(req.WaitMs)*time.Millisecond+10*time.Second)
	defer cancel()
	var set proto.ConfigSet
	if err = netio.Call(rctx, l, req, &set); err != nil {
		var res *proto.Result
		switch {
		case errors.As(err, &res) && res.Code == proto.CodeNotLeader:
			c.meta.drop(l, res.Hint)
		case errors.As(err, &res), errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil && req.WaitMs > 0 && l.Err() == nil:
			// The leader answered (loading: retry) or held the fetch: the
			// link is fine.
		default:
			c.meta.drop(l, "")
		}
		return err
	}
	c.apply(&set)
	return nil
}

// apply makes set the copy and tells the push engine which keys changed.
func (c *configCopy) apply(set *proto.ConfigSet) {
	changed, first := c.update(set)
	configSets.Inc()
	configKeyPushes.Add(len(changed))
	c.s.push.Changed(changed)
	if first {
		// Watchers that arrived before the copy had their fetches fail.
		for _, id := range c.s.push.SubscribedIDs() {
			if proto.IsConfigID(id) {
				c.s.push.Refetch(id)
			}
		}
	}
}

// update makes set the copy; it returns the versions of the keys that
// changed and whether this is the first copy.
func (c *configCopy) update(set *proto.ConfigSet) (changed []proto.DatumVersion, first bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	first = !c.loaded
	incomplete := false
	present := make(map[string]struct{}, len(set.Entries))
	var since uint64
	for _, e := range set.Entries {
		present[e.Key] = struct{}{}
		cur, ok := c.entries[e.Key]
		if ok && cur.version == e.Version {
			since = max(since, e.Version)
			continue
		}
		if !e.HasValue {
			// A version this copy lacks without its value (the leader's
			// versions went back, a clock's doing): fetch everything.
			incomplete = true
			continue
		}
		since = max(since, e.Version)
		c.entries[e.Key] = configValue{version: e.Version, value: e.Value}
		delete(c.tombs, e.Key)
		changed = append(changed, proto.DatumVersion{DataInfoID: proto.ConfigDataInfoID(e.Key), Version: e.Version})
	}
	for k, cur := range c.entries {
		if _, ok := present[k]; ok {
			continue
		}
		delete(c.entries, k)
		if len(c.tombs) >= maxConfigTombs {
			clear(c.tombs)
		}
		v := max(set.Rev, cur.version+1)
		c.tombs[k] = v
		changed = append(changed, proto.DatumVersion{DataInfoID: proto.ConfigDataInfoID(k), Version: v})
	}
	c.loaded = true
	c.rev, c.since = set.Rev, since
	if incomplete {
		c.rev, c.since = 0, 0
	}
	return changed, first
}

// size is the number of keys held, for a gauge.
func (c *configCopy) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
