package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"text/tabwriter"

	"github.com/roster-registry/roster/meta"
)

// switches runs `roster ctl switches [set NAME VALUE | unset NAME]`.
func (c *ctl) switches(ctx context.Context, args []string) error {
	var list []meta.SwitchJSON
	switch {
	case len(args) == 0:
		if err := c.leaderGet(ctx, "/api/switches", &list); err != nil {
			return err
		}
	case args[0] == "set" && len(args) == 3, args[0] == "unset" && len(args) == 2:
		form := url.Values{"name": {args[1]}}
		if args[0] == "set" {
			form.Set("value", args[2])
		}
		m, _, err := c.leader(ctx)
		if err != nil {
			return err
		}
		if err := c.postJSON(ctx, m+"/api/switches/"+args[0], form, &list); err != nil {
			return err
		}
	default:
		return errors.New("ctl switches: want no argument, set NAME VALUE or unset NAME")
	}
	if c.json {
		return c.printJSON(list)
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SWITCH\tVALUE\tUNIT\tRANGE\tWHAT")
	for _, s := range list {
		v := "(flag)"
		if s.Set {
			v = fmt.Sprint(s.Value)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d..%d\t%s\n", s.Name, v, s.Unit, s.Min, s.Max, s.Help)
	}
	return tw.Flush()
}
