package meta

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/proto"
)

// The app revision cleaner. Revision records are immutable and stored once;
// without a cleaner every deploy of every application adds one for good.
// The leader asks every live session, each round, which revisions the
// application instances it holds name (GET /digest/app/revisions): a stored
// revision none names for Config.AppRevisionRetention is removed, with its
// application from the entries of the interfaces no other revision of it
// serves. A round where a session does not answer (or answers truncated),
// or within a node lease of a takeover (the session list may be partial),
// removes nothing; a new leadership starts every revision's clock again.
// SOFARegistry's cleaner instead trusts per-revision heartbeats sessions
// send on a fixed timer; here nothing is written while revisions are in
// use, and a missing answer never counts as "unused".

var (
	appRevsRemoved = metrics.NewCounter(`roster_meta_app_revisions_removed_total`)
	appCleanSkips  = metrics.NewCounter(`roster_meta_app_clean_rounds_skipped_total`)
)

// appCleanState is the leader's view of the revisions nobody uses. Only
// the cleaner's goroutine touches it.
type appCleanState struct {
	epoch  uint64               // the leadership it was built under
	unused map[string]time.Time // revision → when it was first seen unused
}

// appCleanInterval is how often the cleaner runs for a retention: often
// enough that a revision goes within a quarter of its retention after it.
func appCleanInterval(retention time.Duration) time.Duration {
	return min(max(retention/4, 50*time.Millisecond), 10*time.Minute)
}

// appCleanLoop runs cleaning rounds until ctx is done.
func (s *Server) appCleanLoop(ctx context.Context) {
	defer s.wg.Done()
	if s.cfg.AppRevisionRetention < 0 {
		return
	}
	t := time.NewTicker(appCleanInterval(s.cfg.AppRevisionRetention))
	defer t.Stop()
	var st appCleanState
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, catalogTimeout)
		if err := s.cleanAppRevisions(rctx, &st, time.Now()); err != nil {
			appCleanSkips.Inc()
			s.log.Debug("app revision cleaning skipped", "err", err)
		}
		cancel()
	}
}

// cleanAppRevisions runs one round.
func (s *Server) cleanAppRevisions(ctx context.Context, st *appCleanState, now time.Time) error {
	s.mu.Lock()
	leading, epoch, settling := s.isLeaderLocked(now), s.leaseEpoch, now.Before(s.graceUntil)
	sessions := s.reg.sessions
	s.mu.Unlock()
	if !leading || settling {
		return fmt.Errorf("not leading, or within a node lease of taking over")
	}
	if st.epoch != epoch {
		*st = appCleanState{epoch: epoch, unused: make(map[string]time.Time)}
	}
	used, err := s.revisionsInUse(ctx, sessions)
	if err != nil {
		return err
	}
	rows, err := s.cfg.Store.ListConfig(ctx, appRevPrefix)
	if err != nil {
		return fmt.Errorf("cannot list app revisions: %w", err)
	}
	var expired []string
	for key := range rows {
		rev := strings.TrimPrefix(key, appRevPrefix)
		if _, ok := used[rev]; ok {
			delete(st.unused, rev)
			continue
		}
		since, seen := st.unused[rev]
		switch {
		case !seen:
			st.unused[rev] = now
		case now.Sub(since) >= s.cfg.AppRevisionRetention:
			expired = append(expired, rev)
		}
	}
	for rev := range st.unused {
		if _, stored := rows[appRevPrefix+rev]; !stored {
			delete(st.unused, rev)
		}
	}
	if len(expired) == 0 {
		return nil
	}
	slices.Sort(expired)
	if err := s.removeAppRevisions(ctx, epoch, expired, rows); err != nil {
		return err
	}
	for _, rev := range expired {
		delete(st.unused, rev)
	}
	return nil
}

// revisionsInUse asks every session for the revisions its instances name.
func (s *Server) revisionsInUse(ctx context.Context, sessions []proto.NodeInfo) (map[string]struct{}, error) {
	answers := make([]struct {
		Revisions []string `json:"revisions"`
		Truncated bool     `json:"truncated"`
	}, len(sessions))
	bases := make([]string, len(sessions))
	for i, n := range sessions {
		bases[i] = "http://" + n.HTTPAddr + "#" + n.ID // unique per node
	}
	failed := s.catalog.Each(ctx, bases, func(ctx context.Context, base string) error {
		url, _, _ := strings.Cut(base, "#")
		return s.catalog.Get(ctx, url+"/digest/app/revisions", &answers[slices.Index(bases, base)])
	})
	if len(failed) > 0 {
		return nil, fmt.Errorf("%d sessions did not answer (first: %s: %s)", len(failed), failed[0].Node, failed[0].Error)
	}
	used := make(map[string]struct{})
	for i, a := range answers {
		if a.Truncated {
			return nil, fmt.Errorf("session %s holds too many revisions to answer them all", sessions[i].RPCAddr)
		}
		for _, rev := range a.Revisions {
			used[rev] = struct{}{}
		}
	}
	return used, nil
}

// removeAppRevisions deletes the records of revs (rows holds every stored
// record) and takes their applications off the entries of the interfaces
// no remaining revision of theirs serves.
func (s *Server) removeAppRevisions(ctx context.Context, fence uint64, revs []string, rows map[string][]byte) error {
	decode := func(v []byte) (proto.AppRevision, bool) {
		var r proto.AppRevision
		return r, r.Unmarshal(v) == nil
	}
	gone := make(map[string]bool, len(revs))
	for _, rev := range revs {
		gone[rev] = true
	}
	// serving: (interface, app) pairs a remaining revision keeps.
	type pair struct{ iface, app string }
	serving := make(map[pair]bool)
	touched := make(map[string]map[string]bool) // interface → apps of removed revisions
	for key, v := range rows {
		r, ok := decode(v)
		if !ok {
			continue
		}
		for _, svc := range r.Services {
			if gone[strings.TrimPrefix(key, appRevPrefix)] {
				if touched[svc.Interface] == nil {
					touched[svc.Interface] = make(map[string]bool)
				}
				touched[svc.Interface][r.App] = true
			} else {
				serving[pair{svc.Interface, r.App}] = true
			}
		}
	}
	a := &s.apps
	a.mu.Lock()
	defer a.mu.Unlock()
	a.resetLocked(fence)
	for iface, apps := range touched {
		cur, err := a.appsLocked(ctx, s, iface)
		if err != nil {
			return err
		}
		next := slices.DeleteFunc(slices.Clone(cur), func(app string) bool { return apps[app] && !serving[pair{iface, app}] })
		if len(next) == len(cur) {
			continue
		}
		a.changes++ // the index version moves, whatever the write's outcome
		if len(next) == 0 {
			err = s.cfg.Store.DeleteConfig(ctx, ifaceKey(iface), fence)
		} else {
			var v []byte
			if v, err = json.Marshal(appEntry{Interface: iface, Apps: next}); err == nil {
				err = s.cfg.Store.PutConfig(ctx, ifaceKey(iface), v, fence)
			}
		}
		if err != nil {
			return fmt.Errorf("cannot update the apps of %s: %w", iface, err)
		}
		a.cacheAppsLocked(iface, next)
	}
	for _, rev := range revs {
		if err := s.cfg.Store.DeleteConfig(ctx, appRevPrefix+rev, fence); err != nil {
			return fmt.Errorf("cannot remove app revision %s: %w", rev, err)
		}
		delete(a.revs, rev)
		appRevsRemoved.Inc()
	}
	a.nRevs.Store(int64(len(a.revs)))
	s.log.Info("unused app revisions removed", "revisions", revs, "retention", s.cfg.AppRevisionRetention)
	return nil
}
