package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/roster-registry/roster/meta"
)

// drainPoll is how often `ctl drain` checks on the nodes it drains.
const drainPoll = 200 * time.Millisecond

// drain orders nodes to drain (or, with undo, to stop draining) through the
// meta leader, then waits until each obeyed and, for a drain, until each is
// drained: a data node holds no slot, a session has no client left. It
// prints progress to errOut whenever it changes, and gives up waiting when
// ctx ends (--timeout), saying what is left. Draining the last data node or
// session that does not drain is refused without --force.
func (c *ctl) drain(ctx context.Context, names []string, undo bool) error {
	m, _, err := c.leader(ctx)
	if err != nil {
		return err
	}
	if !undo && !c.force {
		if err := c.refuseLastNode(ctx, m, names); err != nil {
			return err
		}
	}
	path := "/api/node/drain"
	if undo {
		path = "/api/node/undrain"
	}
	var res meta.DrainOrderJSON
	b, err := c.call(ctx, http.MethodPost, m+path, url.Values{"addr": names})
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("cannot decode the answer of %s: %w", path, err)
	}
	var nodes []meta.DrainNodeJSON
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	start, last := time.Now(), ""
	for {
		var clients map[string]int
		nodes, clients, err = c.drainStatus(ctx, m, res.Nodes, undo)
		if err == nil {
			if p := drainProgress(nodes, clients, undo); p != last {
				fmt.Fprintf(c.errOut, "%5.1fs %s\n", time.Since(start).Seconds(), p)
				last = p
			}
			if drainDone(nodes, undo) {
				break
			}
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("not done after %s (it goes on in the background; see roster ctl status, or wait longer with --timeout): %w",
					time.Since(start).Round(time.Second), ctx.Err())
			}
			_ = c.printDrain(nodes)
			return fmt.Errorf("ctl drain: %w", err)
		case <-t.C:
		}
	}
	return c.printDrain(nodes)
}

// refuseLastNode refuses a drain that would leave no data node or no
// session to take over: the slots (or clients) would have nowhere to go.
func (c *ctl) refuseLastNode(ctx context.Context, m string, names []string) error {
	var draining []meta.DrainNodeJSON
	if err := c.get(ctx, m+"/api/node/drain", &draining); err != nil {
		return err
	}
	for _, role := range []string{"data", "session"} {
		var live []meta.NodeJSON
		if err := c.get(ctx, m+"/digest/"+role+"/node/query", &live); err != nil {
			return err
		}
		named, left := 0, 0
		for _, n := range live {
			switch {
			case slices.ContainsFunc(names, func(s string) bool { return s == n.ID || s == n.RPCAddr || s == n.HTTPAddr }):
				named++
			case !slices.ContainsFunc(draining, func(d meta.DrainNodeJSON) bool { return d.ID == n.ID && (d.Draining || d.Order == "drain") }):
				left++
			}
		}
		if named > 0 && left == 0 {
			what := "its slots would have no other node to move to and writes would fail"
			if role == "session" {
				what = "its clients would have no other session to move to"
			}
			return fmt.Errorf("ctl drain: refusing to drain the last %s node that does not drain: %s (pass --force to drain anyway)", role, what)
		}
	}
	return nil
}

// drainProgress describes what is left to drain, on one line.
func drainProgress(nodes []meta.DrainNodeJSON, clients map[string]int, undo bool) string {
	parts := make([]string, 0, len(nodes))
	for _, n := range nodes {
		var p string
		switch {
		case n.Order != "":
			p = "order pending"
		case undo && n.Draining:
			p = "still draining"
		case undo:
			p = "taking work"
		case n.Role == "data":
			p = fmt.Sprintf("%d leaders, %d followers left", n.Leaders, n.Followers)
		default:
			p = fmt.Sprintf("%d clients left", clients[n.ID])
		}
		if !undo && n.Drained {
			p = "drained"
		}
		parts = append(parts, fmt.Sprintf("%s %s: %s", n.Role, n.RPCAddr, p))
	}
	return strings.Join(parts, "; ")
}

// drainStatus describes the nodes of an order as meta and, for sessions,
// the sessions themselves see them now, with each draining session's
// clients by node ID.
func (c *ctl) drainStatus(ctx context.Context, m string, ordered []meta.DrainNodeJSON, undo bool) ([]meta.DrainNodeJSON, map[string]int, error) {
	var all []meta.DrainNodeJSON
	if err := c.get(ctx, m+"/api/node/drain", &all); err != nil {
		return nil, nil, err
	}
	out := make([]meta.DrainNodeJSON, 0, len(ordered))
	clients := map[string]int{}
	for _, o := range ordered {
		n := o
		n.Draining, n.Order, n.Drained = false, "", false
		for _, a := range all {
			if a.ID == o.ID {
				n = a
			}
		}
		if n.Role == "session" && n.Draining && !undo {
			var h struct {
				Detail struct {
					Clients int `json:"clients"`
				} `json:"detail"`
			}
			if err := c.get(ctx, baseURL(n.HTTPAddr)+"/health/check", &h); err != nil {
				return nil, nil, err
			}
			n.Drained = h.Detail.Clients == 0
			clients[n.ID] = h.Detail.Clients
		}
		out = append(out, n)
	}
	return out, clients, nil
}

func drainDone(nodes []meta.DrainNodeJSON, undo bool) bool {
	for _, n := range nodes {
		if n.Order != "" || undo && n.Draining || !undo && !n.Drained {
			return false
		}
	}
	return true
}

func (c *ctl) printDrain(nodes []meta.DrainNodeJSON) error {
	if nodes == nil {
		nodes = []meta.DrainNodeJSON{}
	}
	if c.json {
		return c.printJSON(nodes)
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tROLE\tDRAINING\tDRAINED\tLEADERS\tFOLLOWERS\tPENDING ORDER")
	for _, n := range nodes {
		fmt.Fprintf(tw, "%s\t%s\t%t\t%t\t%d\t%d\t%s\n", n.RPCAddr, n.Role, n.Draining, n.Drained, n.Leaders, n.Followers, n.Order)
	}
	return tw.Flush()
}
