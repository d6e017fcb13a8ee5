package proccluster

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// Checking subscribers against the workload's model.

// mismatch is a subscriber whose list is not what its service holds.
type mismatch struct {
	dataInfoID string
	want, got  []string
	pushed     bool
}

// mismatches compares every subscriber's current list with the model.
// Call it without churn running, or services being changed are reported.
func (w *workload) mismatches() []mismatch {
	var out []mismatch
	for _, svc := range w.services {
		svc.mu.Lock()
		want := make([]string, 0, len(svc.pubs))
		for _, p := range svc.pubs {
			want = append(want, p.data())
		}
		sub := svc.sub
		svc.mu.Unlock()
		slices.Sort(want)
		u, ok := sub.s.Current()
		got := u.Addresses()
		if !ok || !slices.Equal(got, want) {
			out = append(out, mismatch{dataInfoID: sub.s.DataInfoID(), want: want, got: got, pushed: ok})
		}
	}
	return out
}

// waitCorrect waits until every subscriber holds exactly the live
// publishers of its service, and returns when that happened. On timeout it
// fails the test, describing a few mismatches with what the cluster holds.
func (w *workload) waitCorrect(t *testing.T, ctx context.Context, c *Cluster, what string) time.Time {
	t.Helper()
	var last []mismatch
	start := time.Now()
	described := false
	err := Poll(ctx, 50*time.Millisecond, what, func(context.Context) (bool, error) {
		last = w.mismatches()
		if len(last) > 0 && !described && time.Since(start) > slowConvergence {
			// Not a failure: a note on what lags, for the log.
			described = true
			t.Logf("note: %d subscribers still wrong %v after the churn stopped; first: %s",
				len(last), slowConvergence, w.describeMismatch(c, last[0]))
		}
		return len(last) == 0, nil
	})
	if err == nil {
		return time.Now()
	}
	t.Errorf("%v: %d of %d subscribers are wrong", err, len(last), len(w.services))
	for i, m := range last {
		if i == 3 {
			break
		}
		t.Errorf("  %s", w.describeMismatch(c, m))
	}
	t.FailNow()
	return time.Time{}
}

// describeMismatch explains one wrong subscriber: what it has and should
// have, what was last done to each publisher involved, and what the
// cluster holds.
func (w *workload) describeMismatch(c *Cluster, m mismatch) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (pushed %v): want %v, got %v", m.dataInfoID, m.pushed, m.want, m.got)
	ids := make(map[string]bool)
	for _, l := range [][]string{m.want, m.got} {
		for _, a := range l {
			id, _, _ := strings.Cut(a, "#v")
			ids[id] = true
		}
	}
	for id := range ids {
		if pr, ok := w.pubs.Load(id); ok {
			fmt.Fprintf(&b, "\n    %s", pr.(*pubRec).describe())
		}
	}
	return b.String() + "\n" + w.describe(c, m.dataInfoID)
}

// dumpService describes what every running session and data node holds for
// one dataInfoId, for failure messages.
func dumpService(c *Cluster, dataInfoID string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var b strings.Builder
	q := "?dataInfoId=" + url.QueryEscape(dataInfoID)
	for _, n := range c.Running(RoleSession) {
		for _, path := range []string{"/digest/pub/data/query", "/digest/sub/data/query"} {
			var v any
			_, err := GetJSON(ctx, n.HTTPURL(path+q), &v)
			fmt.Fprintf(&b, "    %s %s: %v %v\n", n.Name, path, v, errString(err))
		}
	}
	for _, n := range c.Running(RoleData) {
		var v any
		_, err := GetJSON(ctx, n.HTTPURL("/digest/datum/query"+q), &v)
		fmt.Fprintf(&b, "    %s datum: %v %v\n", n.Name, v, errString(err))
	}
	return b.String()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
