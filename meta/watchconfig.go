package meta

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// Watched config (SOFARegistry's provide data, watched by its
// Configurator): small values under keys, each with a version, that
// clients watch through their sessions. The rows live in the store's config
// table like the switches and the operators' lists (one row per key under
// watchPrefix, "VERSION\nVALUE"), so both dialects keep them without a
// schema change. Unlike the cluster config they do not ride in heartbeat
// replies, which would resend up to MaxConfigBytes on every change: each
// session holds one ConfigFetch parked at the leader, answered as soon as a
// write lands (one round trip, whatever the heartbeat interval), and asks
// again when its wait runs out. SOFARegistry's sessions instead re-read
// provide data on fixed timers and on a change notice per key.
const watchPrefix = "watch/"

// maxWatchWaiters bounds the parked fetches (one per session connection).
const maxWatchWaiters = 4096

// errNoConfigKey answers a get or delete of a key the store lacks.
var errNoConfigKey = errors.New("no such config key")

// watchEntry is one key's value and the version its last write got.
type watchEntry struct {
	version uint64
	value   string
}

// watchParked is a ConfigFetch waiting for a change.
type watchParked struct {
	id    uint64 // the request's id
	since uint64
}

// watchState is the leader's copy of the watched config. writeMu serialises
// the admin writes (store I/O, taken before mu); mu is a leaf guarding the
// rest, taken from the RPC event loops: only in-memory work under it.
type watchState struct {
	writeMu sync.Mutex

	mu         sync.Mutex
	leaseEpoch uint64 // the leadership that loaded entries; 0: none
	rev        uint64 // the highest version written or loaded: the set's revision
	entries    map[string]watchEntry
	bytes      int // values together
	parked     map[*netio.Conn]watchParked
}

var (
	watchWrites  = metrics.NewCounter("roster_meta_watch_config_writes_total")
	watchAnswers = metrics.NewCounter("roster_meta_watch_config_fetches_total")
)

// encodeWatch and decodeWatch are a row's value.
func encodeWatch(e watchEntry) []byte {
	return []byte(strconv.FormatUint(e.version, 10) + "\n" + e.value)
}

func decodeWatch(b []byte) (watchEntry, bool) {
	v, val, ok := strings.Cut(string(b), "\n")
	n, err := strconv.ParseUint(v, 10, 64)
	if !ok || err != nil || n == 0 || proto.CheckConfigValue(val) != nil {
		return watchEntry{}, false
	}
	return watchEntry{version: n, value: val}, true
}

// readWatch reads the stored keys; a malformed row or one over a bound is
// reported in bad and left out, so the rest loads.
func (s *Server) readWatch(ctx context.Context) (map[string]watchEntry, []string, error) {
	rows, err := s.cfg.Store.ListConfig(ctx, watchPrefix)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot load the watched config: %w", err)
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make(map[string]watchEntry, len(keys))
	var bad []string
	total := 0
	for _, row := range keys {
		key := strings.TrimPrefix(row, watchPrefix)
		e, ok := decodeWatch(rows[row])
		if !ok || proto.CheckConfigKey(key) != nil || len(out) >= proto.MaxConfigKeys || total+len(e.value) > proto.MaxConfigBytes {
			bad = append(bad, row)
			continue
		}
		total += len(e.value)
		out[key] = e
	}
	return out, bad, nil
}

// loadWatch makes the stored keys the copy of leadership leaseEpoch.
func (s *Server) loadWatch(ctx context.Context, leaseEpoch uint64) error {
	entries, bad, err := s.readWatch(ctx)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		s.log.Error("stored watched config rows that are malformed or over the limits are ignored", "keys", bad)
	}
	w := &s.watch
	w.mu.Lock()
	w.leaseEpoch, w.entries, w.rev, w.bytes = leaseEpoch, entries, 0, 0
	for _, e := range entries {
		w.rev = max(w.rev, e.version)
		w.bytes += len(e.value)
	}
	parked := w.takeParkedLocked()
	w.mu.Unlock()
	s.answerParked(parked, leaseEpoch)
	return nil
}

// writeWatch puts value under key (or deletes key when value is nil) as
// leader and answers the parked fetches. It returns the key's version: the
// write's, or the current one when the value is unchanged.
func (s *Server) writeWatch(ctx context.Context, key string, value *string) (uint64, error) {
	w := &s.watch
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, configWriteTimeout)
	defer cancel()
	s.mu.Lock()
	leading, fence, hint := s.isLeaderLocked(time.Now()), s.leaseEpoch, s.leaderHintLocked()
	s.mu.Unlock()
	w.mu.Lock()
	if !leading || w.leaseEpoch != fence {
		w.mu.Unlock()
		return 0, &notLeaderError{leader: hint}
	}
	cur, had := w.entries[key]
	// Versions are the time in microseconds, and always above the last:
	// one deleted by a leader that then crashed is not reissued by the
	// next, which only knows the versions still stored.
	version := max(w.rev+1, uint64(time.Now().UnixMicro()))
	n, bytes := len(w.entries), w.bytes-len(cur.value)
	w.mu.Unlock()
	switch {
	case value == nil && !had:
		return 0, errNoConfigKey
	case value != nil && had && cur.value == *value:
		return cur.version, nil
	case value != nil && !had && n >= proto.MaxConfigKeys:
		return 0, &errConfigFull{fmt.Sprintf("the watched config holds %d keys, the limit", proto.MaxConfigKeys)}
	case value != nil && bytes+len(*value) > proto.MaxConfigBytes:
		return 0, &errConfigFull{fmt.Sprintf("the watched config's values would take %d bytes, limit %d", bytes+len(*value), proto.MaxConfigBytes)}
	}
	var err error
	if value == nil {
		err = s.cfg.Store.DeleteConfig(ctx, watchPrefix+key, fence)
	} else {
		err = s.cfg.Store.PutConfig(ctx, watchPrefix+key, encodeWatch(watchEntry{version, *value}), fence)
	}
	if err != nil {
		return 0, fmt.Errorf("cannot save config key %s: %w", key, err)
	}
	w.mu.Lock()
	if w.leaseEpoch != fence {
		// A takeover reloaded the copy meanwhile, maybe before this write
		// landed: have the operator retry on the leader.
		w.mu.Unlock()
		return 0, fmt.Errorf("cannot apply config key %s: %w", key, errLeadershipChanged)
	}
	if value == nil {
		delete(w.entries, key)
		w.bytes -= len(cur.value)
	} else {
		if w.entries == nil {
			w.entries = make(map[string]watchEntry)
		}
		w.entries[key] = watchEntry{version, *value}
		w.bytes += len(*value) - len(cur.value)
	}
	w.rev = version
	parked := w.takeParkedLocked()
	w.mu.Unlock()
	watchWrites.Inc()
	s.log.Info("watched config changed", "key", key, "version", version, "deleted", value == nil)
	s.answerParked(parked, fence)
	return version, nil
}

// errConfigFull refuses a write past the store's bounds.
type errConfigFull struct{ msg string }

func (e *errConfigFull) Error() string { return e.msg + ": nothing changed" }

// watchSnapshot is the copy for a query: the leader's, else the store's
// (any meta node answers).
func (s *Server) watchSnapshot(ctx context.Context) (map[string]watchEntry, uint64, error) {
	s.mu.Lock()
	leading, epoch := s.isLeaderLocked(time.Now()), s.leaseEpoch
	s.mu.Unlock()
	w := &s.watch
	w.mu.Lock()
	if leading && w.leaseEpoch == epoch {
		out := make(map[string]watchEntry, len(w.entries))
		for k, e := range w.entries {
			out[k] = e
		}
		rev := w.rev
		w.mu.Unlock()
		return out, rev, nil
	}
	w.mu.Unlock()
	entries, _, err := s.readWatch(ctx)
	var rev uint64
	for _, e := range entries {
		rev = max(rev, e.version)
	}
	return entries, rev, err
}
