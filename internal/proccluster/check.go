package proccluster

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Checking subscribers against the workload's model.

// Mismatch is a subscriber whose list is not what its service holds.
type Mismatch struct {
	DataInfoID string
	Want, Got  []string
	Pushed     bool // the subscriber received a list at all
}

// Missing returns the publisher ids of Want absent from Got at any version:
// live publishers the subscriber does not see.
func (m Mismatch) Missing() []string {
	got := make(map[string]bool, len(m.Got))
	for _, a := range m.Got {
		id, _, _ := strings.Cut(a, "#v")
		got[id] = true
	}
	var out []string
	for _, a := range m.Want {
		if id, _, _ := strings.Cut(a, "#v"); !got[id] {
			out = append(out, id)
		}
	}
	return out
}

// Mismatches compares every subscriber's current list with the model.
// Call it without churn running, or services being changed are reported.
func (w *Workload) Mismatches() []Mismatch {
	var out []Mismatch
	for _, svc := range w.services {
		svc.mu.Lock()
		want := make([]string, 0, len(svc.pubs))
		for _, p := range svc.pubs {
			if !p.gone.Load() { // a killed client's (see Doomed)
				want = append(want, p.data())
			}
		}
		sub := svc.sub
		svc.mu.Unlock()
		slices.Sort(want)
		u, ok := sub.s.Current()
		got := u.Addresses()
		if !ok || !slices.Equal(got, want) {
			out = append(out, Mismatch{DataInfoID: sub.s.DataInfoID(), Want: want, Got: got, Pushed: ok})
		}
	}
	return out
}

// WaitCorrect waits until every subscriber holds exactly the live
// publishers of its service and returns when that happened. When ctx ends
// first it returns the mismatches left and an error. slow, if not nil, is
// called once with the mismatches left after slowAfter.
func (w *Workload) WaitCorrect(ctx context.Context, what string, slowAfter time.Duration, slow func([]Mismatch)) (time.Time, []Mismatch, error) {
	var last []Mismatch
	start := time.Now()
	err := Poll(ctx, 50*time.Millisecond, what, func(context.Context) (bool, error) {
		last = w.Mismatches()
		if len(last) > 0 && slow != nil && time.Since(start) > slowAfter {
			slow(last)
			slow = nil
		}
		return len(last) == 0, nil
	})
	if err != nil {
		return time.Time{}, last, fmt.Errorf("%w: %d of %d subscribers are wrong", err, len(last), len(w.services))
	}
	return time.Now(), nil, nil
}

// DescribeMismatch explains one wrong subscriber: what it has and should
// have, what was last done to each publisher involved, and what the
// cluster holds.
func (w *Workload) DescribeMismatch(c *Cluster, m Mismatch) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (pushed %v): want %v, got %v", m.DataInfoID, m.Pushed, m.Want, m.Got)
	ids := make(map[string]bool)
	for _, l := range [][]string{m.Want, m.Got} {
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
	return b.String() + "\n" + w.describe(c, m.DataInfoID)
}

// DatumHolds reports whether any running, unpaused data node holds
// publisher id (as the workload names them) of dataInfoID.
func DatumHolds(ctx context.Context, c *Cluster, dataInfoID, id string) bool {
	q := "?dataInfoId=" + url.QueryEscape(dataInfoID)
	for _, n := range c.Running(RoleData) {
		if n.Paused() {
			continue
		}
		var d struct {
			Publishers []struct {
				Data []string `json:"data"`
			} `json:"publishers"`
		}
		if _, err := GetJSON(ctx, n.HTTPURL("/digest/datum/query"+q), &d); err != nil {
			continue
		}
		for _, p := range d.Publishers {
			for _, s := range p.Data {
				if strings.HasPrefix(s, id+"#v") {
					return true
				}
			}
		}
	}
	return false
}

// DumpService describes what every running session and data node holds for
// one dataInfoId, for failure messages.
func DumpService(c *Cluster, dataInfoID string) string {
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
