package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/roster-registry/roster/meta"
)

// app prints an application's revisions and the interfaces each serves.
func (c *ctl) app(ctx context.Context, name string) error {
	var a meta.AppJSON
	if err := c.leaderGet(ctx, "/api/apps/app?name="+url.QueryEscape(name), &a); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(a)
	}
	if len(a.Revisions) == 0 {
		_, err := fmt.Fprintf(c.out, "no revision of app %s is stored\n", name)
		return err
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tINTERFACES")
	for _, r := range a.Revisions {
		fmt.Fprintf(tw, "%s\t%s\n", r.Revision, strings.Join(r.Interfaces, ", "))
	}
	return tw.Flush()
}

// iface prints the applications serving an interface (a bare dataId takes
// the default instance id and group).
func (c *ctl) iface(ctx context.Context, id string) error {
	var a meta.InterfaceAppsJSON
	if err := c.leaderGet(ctx, "/api/apps/interface?interface="+url.QueryEscape(fullID(id)), &a); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(a)
	}
	apps := strings.Join(a.Apps, ", ")
	if apps == "" {
		apps = "none"
	}
	_, err := fmt.Fprintf(c.out, "%s\napps: %s\n", a.Interface, apps)
	return err
}
