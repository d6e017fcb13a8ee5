package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/roster-registry/roster/meta"
)

// drainPoll is how often `ctl drain` checks on the nodes it drains.
const drainPoll = 200 * time.Millisecond

// drain orders nodes to drain (or, with undo, to stop draining) through the
// meta leader, then waits until each obeyed and, for a drain, until each is
// drained: a data node holds no slot, a session has no client left. It
// gives up waiting when ctx ends, saying what is left.
func (c *ctl) drain(ctx context.Context, names []string, undo bool) error {
	m, _, err := c.leader(ctx)
	if err != nil {
		return err
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
	for {
		nodes, err = c.drainStatus(ctx, m, res.Nodes, undo)
		if err == nil && drainDone(nodes, undo) {
			break
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("not done yet (it goes on in the background; see roster ctl status): %w", ctx.Err())
			}
			_ = c.printDrain(nodes)
			return fmt.Errorf("ctl drain: %w", err)
		case <-t.C:
		}
	}
	return c.printDrain(nodes)
}

// drainStatus describes the nodes of an order as meta and, for sessions,
// the sessions themselves see them now.
func (c *ctl) drainStatus(ctx context.Context, m string, ordered []meta.DrainNodeJSON, undo bool) ([]meta.DrainNodeJSON, error) {
	var all []meta.DrainNodeJSON
	if err := c.get(ctx, m+"/api/node/drain", &all); err != nil {
		return nil, err
	}
	out := make([]meta.DrainNodeJSON, 0, len(ordered))
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
				return nil, err
			}
			n.Drained = h.Detail.Clients == 0
		}
		out = append(out, n)
	}
	return out, nil
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
