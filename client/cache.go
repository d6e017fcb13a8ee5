package client

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-registry/roster/client/wire"
)

// diskCache keeps the last list of every subscription key in a directory
// (Config.CacheDir), for a client that starts while no session answers.
// Pushes are applied on a link's read goroutine, which must not wait for a
// disk: they leave the newest list of a key in pending, and one goroutine
// (run) writes what it finds there. pending holds at most one list per
// subscription key, so it is bounded by the subscriptions.
type diskCache struct {
	dir      string
	maxBytes int64
	log      *slog.Logger
	skipLog  wire.LogThrottle // Every 10s: lists not written, failed writes

	wake chan struct{} // one slot: pending has something

	mu      sync.Mutex
	pending map[subKey]*pubList
	sizes   map[string]int64 // bytes of each list file, by name
	total   int64            // sum of sizes

	writes, errors, skipped atomic.Uint64
}

// openCache creates dir when missing, deletes the temporary files of
// writes a crash cut short, and deletes the oldest lists beyond maxBytes
// (those of services the application no longer subscribes to, usually).
func openCache(dir string, maxBytes int64, log *slog.Logger) (*diskCache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create cache directory: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read cache directory: %w", err)
	}
	dc := &diskCache{
		dir: dir, maxBytes: maxBytes, log: log,
		skipLog: wire.LogThrottle{Every: 10 * time.Second},
		wake:    make(chan struct{}, 1),
		pending: make(map[subKey]*pubList),
		sizes:   make(map[string]int64),
	}
	type file struct {
		name string
		size int64
		mod  time.Time
	}
	var files []file
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), cacheTemp):
			_ = os.Remove(filepath.Join(dir, e.Name()))
		case isCacheName(e.Name()) && e.Type().IsRegular():
			if fi, err := e.Info(); err == nil {
				files = append(files, file{e.Name(), fi.Size(), fi.ModTime()})
			}
		}
	}
	slices.SortFunc(files, func(a, b file) int { return b.mod.Compare(a.mod) }) // newest first
	for _, f := range files {
		if dc.total+f.size > maxBytes {
			if err := os.Remove(filepath.Join(dir, f.name)); err == nil {
				log.Info("deleted a cached list beyond the cache's bound", "file", f.name, "maxBytes", maxBytes)
				continue
			}
		}
		dc.sizes[f.name] = f.size
		dc.total += f.size
	}
	return dc, nil
}

// load returns the newest list known for k: one still waiting to be
// written, else the file's; nil when there is none or it cannot be read.
func (dc *diskCache) load(k subKey) *pubList {
	dc.mu.Lock()
	l := dc.pending[k]
	dc.mu.Unlock()
	if l != nil {
		return l
	}
	l, err := readCache(dc.dir, k)
	if err != nil {
		dc.log.Warn("cannot read a cached list, ignoring it", "dataInfoId", k.dataInfoID, "zone", k.zone, "err", err)
		return nil
	}
	return l
}

// put records l as the newest list of k, to be written.
func (dc *diskCache) put(k subKey, l *pubList) {
	dc.mu.Lock()
	if old := dc.pending[k]; old == nil || old.version < l.version {
		dc.pending[k] = l
	}
	dc.mu.Unlock()
	select {
	case dc.wake <- struct{}{}:
	default:
	}
}

// run writes pending lists until ctx is done, then writes those still
// pending (Close waits for it: the last lists received are on disk).
func (dc *diskCache) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			dc.flush()
			return
		case <-dc.wake:
		}
		dc.flush()
	}
}

// flush writes the pending lists.
func (dc *diskCache) flush() {
	dc.mu.Lock()
	batch := dc.pending
	dc.pending = make(map[subKey]*pubList, len(batch))
	dc.mu.Unlock()
	for k, l := range batch {
		dc.write(k, l)
	}
}

// write stores l as the file of k, unless it would exceed a bound.
func (dc *diskCache) write(k subKey, l *pubList) {
	b, err := encodeCache(k, l)
	if err != nil {
		dc.errors.Add(1)
		dc.skipLog.Warn(dc.log, "cannot encode a list for the cache", "dataInfoId", k.dataInfoID, "err", err)
		return
	}
	name := cacheName(k)
	dc.mu.Lock()
	grown := dc.total - dc.sizes[name] + int64(len(b))
	dc.mu.Unlock()
	if len(b) > maxCacheFile || grown > dc.maxBytes {
		dc.skipped.Add(1)
		dc.skipLog.Warn(dc.log, "not caching a list: over the cache's bounds", "dataInfoId", k.dataInfoID,
			"bytes", len(b), "maxFile", maxCacheFile, "cacheBytes", dc.total, "maxBytes", dc.maxBytes)
		return
	}
	if err := writeFileAtomic(dc.dir, name, b); err != nil {
		dc.errors.Add(1)
		dc.skipLog.Warn(dc.log, "cannot write a cached list", "dataInfoId", k.dataInfoID, "err", err)
		return
	}
	dc.mu.Lock()
	dc.total += int64(len(b)) - dc.sizes[name]
	dc.sizes[name] = int64(len(b))
	dc.mu.Unlock()
	dc.writes.Add(1)
}

// CacheMetrics describe Config.CacheDir.
type CacheMetrics struct {
	Bytes   int64  // size of the list files
	Files   int    // list files
	Pending int    // lists waiting to be written
	Writes  uint64 // lists written
	Errors  uint64 // lists that could not be written
	Skipped uint64 // lists not written for being over CacheMaxBytes or 4 MiB
}

func (dc *diskCache) metrics() CacheMetrics {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	return CacheMetrics{Bytes: dc.total, Files: len(dc.sizes), Pending: len(dc.pending),
		Writes: dc.writes.Load(), Errors: dc.errors.Load(), Skipped: dc.skipped.Load()}
}
