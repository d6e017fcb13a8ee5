package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/roster-registry/roster/meta"
)

// blacklist runs `roster ctl blacklist list|add|remove ...` against the
// meta leader.
func (c *ctl) blacklist(ctx context.Context, args []string) error {
	const usage = "ctl blacklist: want list, or add|remove ip|publish|subscribe ENTRY..."
	if len(args) == 0 {
		return fmt.Errorf("%s", usage)
	}
	switch args[0] {
	case "list":
		return c.blacklistList(ctx)
	case "add", "remove":
		if len(args) < 3 {
			return fmt.Errorf("%s", usage)
		}
		kind := args[1]
		if kind != "ip" && kind != "publish" && kind != "subscribe" {
			return fmt.Errorf("ctl blacklist %s: unknown list %q (ip, publish or subscribe)", args[0], kind)
		}
		return c.metaCall(ctx, http.MethodPost, "/api/blacklist/"+args[0],
			url.Values{"kind": {kind}, "values": {strings.Join(args[2:], ",")}}, "")
	}
	return fmt.Errorf("ctl blacklist: unknown action %q (list, add or remove)", args[0])
}

func (c *ctl) blacklistList(ctx context.Context) error {
	var b meta.BlacklistJSON
	if err := c.leaderGet(ctx, "/api/blacklist/query", &b); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(b)
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LIST\tENTRY")
	for _, l := range []struct {
		name    string
		entries []string
	}{{"ip", b.IPs}, {"publish", b.Publish}, {"subscribe", b.Subscribe}} {
		for _, e := range l.entries {
			fmt.Fprintf(tw, "%s\t%s\n", l.name, e)
		}
	}
	return tw.Flush()
}
