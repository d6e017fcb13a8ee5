package chaos

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/roster-registry/roster/internal/opshttp"
)

// Watchers: every workload client watches one config key; during each
// fault the runner changes it on the meta leader, and after the fault every
// watcher must hold the new value within the deadline (a watcher that does
// not counts as lost: the change did not reach it).

// watchKey is the config key every workload client watches.
const watchKey = "chaos.config"

// watchPutDelay is how long after a fault starts the key is changed: the
// faults strike one second in (churnBefore), so the change lands while the
// fault is in effect.
const watchPutDelay = 1500 * time.Millisecond

// startWatchers has every workload client watch watchKey.
func (e *env) startWatchers(ctx context.Context) error {
	for i, cl := range e.w.Clients() {
		w, err := cl.Watch(ctx, watchKey, nil)
		if err != nil {
			return fmt.Errorf("cannot watch %s on client %d: %w", watchKey, i, err)
		}
		e.watchers = append(e.watchers, w)
	}
	return nil
}

// putConfig sets watchKey to value on the meta leader, retrying (the
// leader may be the fault's victim, the store may be down) until it
// succeeds or ctx ends. A put that landed but whose answer was lost is
// repeated harmlessly: the same value keeps its version.
func (e *env) putConfig(ctx context.Context, value string) error {
	var last error
	for {
		n, _, err := e.c.MetaLeader(ctx)
		if err == nil {
			var resp *http.Response
			resp, err = opshttp.DoAdmin(ctx, http.MethodPost, n.HTTPURL("/api/config/put"), url.Values{"key": {watchKey}, "value": {value}}, e.adminToken)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
				err = fmt.Errorf("put on %s: status %d", n.Name, resp.StatusCode)
				if resp.StatusCode >= 400 && resp.StatusCode < 500 {
					return err // refused: retrying will not help
				}
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("cannot change %s: %w (last: %v)", watchKey, ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// changeDuringFault changes watchKey watchPutDelay into a fault, on its own
// goroutine; the returned function waits for it (at most the deadline past
// its call) and then for every watcher to hold the value, recording in run.
func (e *env) changeDuringFault(ctx context.Context, name string) (check func(run *Trial)) {
	value := fmt.Sprintf("%s-%d", name, time.Now().UnixNano())
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		sleepCtx(pctx, watchPutDelay)
		done <- e.putConfig(pctx, value)
	}()
	return func(run *Trial) {
		var err error
		select {
		case err = <-done:
		case <-time.After(e.cfg.Deadline):
			cancel()
			err = <-done
		}
		cancel()
		if err != nil {
			run.WatchLost = len(e.watchers)
			run.Details = append(run.Details, "the config change during the fault: "+err.Error())
			return
		}
		put := time.Now()
		dctx, dcancel := context.WithTimeout(ctx, e.cfg.Deadline)
		defer dcancel()
		missing := e.watchersWithout(value)
		for len(missing) > 0 && dctx.Err() == nil {
			sleepCtx(dctx, 20*time.Millisecond)
			missing = e.watchersWithout(value)
		}
		if len(missing) > 0 {
			run.WatchLost = len(missing)
			run.Details = append(run.Details, fmt.Sprintf("%d of %d watchers lack the config change %v after it was put; first: client %d",
				len(missing), len(e.watchers), e.cfg.Deadline, missing[0]))
			return
		}
		run.Notes = append(run.Notes, fmt.Sprintf("config change reached %d watchers %s after both the fault and the change were over", len(e.watchers), fmtDur(time.Since(put))))
	}
}

// watchersWithout returns the indexes of the watchers not holding value.
func (e *env) watchersWithout(value string) []int {
	var out []int
	for i, w := range e.watchers {
		if u, ok := w.Current(); !ok || !u.Exists || u.Value != value {
			out = append(out, i)
		}
	}
	return out
}
