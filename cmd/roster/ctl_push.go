package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/roster-registry/roster/meta"
)

// push runs `roster ctl push stop|resume [ZONE...]|gray ...|status`.
func (c *ctl) push(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("ctl push: missing stop, resume, gray or status")
	}
	switch args[0] {
	case "stop", "resume":
		form := url.Values{}
		if len(args) > 1 {
			form.Set("zones", strings.Join(args[1:], ","))
		}
		return c.metaCall(ctx, http.MethodPost, "/api/push/"+args[0], form, "")
	case "gray":
		if len(args) < 3 || args[1] != "add" && args[1] != "remove" {
			return errors.New("ctl push gray: want add or remove, and IPs")
		}
		return c.metaCall(ctx, http.MethodPost, "/api/push/gray/"+args[1], url.Values{"ips": {strings.Join(args[2:], ",")}}, "")
	case "status":
		return c.pushStatus(ctx)
	}
	return fmt.Errorf("ctl push: unknown action %q (stop, resume, gray or status)", args[0])
}

// pushStatus prints whether pushes run, cluster-wide and per zone.
func (c *ctl) pushStatus(ctx context.Context) error {
	var st meta.PushStatusJSON
	if err := c.leaderGet(ctx, "/api/push/status", &st); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(st)
	}
	switch {
	case st.Stopped && len(st.Gray) > 0:
		fmt.Fprintf(c.out, "pushes: STOPPED cluster-wide but to the gray list: %s\n", strings.Join(st.Gray, ", "))
	case st.Stopped:
		fmt.Fprintln(c.out, "pushes: STOPPED cluster-wide (roster ctl push resume starts them again)")
	default:
		fmt.Fprintln(c.out, "pushes: running")
	}
	if len(st.StoppedZones) > 0 {
		fmt.Fprintf(c.out, "stopped zones: %s\n", strings.Join(st.StoppedZones, ", "))
	}
	if len(st.Gray) > 0 && !st.Stopped {
		fmt.Fprintf(c.out, "gray list (used while stopped): %s\n", strings.Join(st.Gray, ", "))
	}
	return nil
}

// clients prints the client-off state.
func (c *ctl) clients(ctx context.Context) error {
	var d meta.ClientOffDetailJSON
	if err := c.leaderGet(ctx, "/api/clientManager/detail", &d); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(d)
	}
	list := func(l []string) string {
		if len(l) == 0 {
			return "none"
		}
		return strings.Join(l, ", ")
	}
	_, err := fmt.Fprintf(c.out, "client-off IPs: %s\n  with subscribers: %s\nclient-off zones: %s\n", list(d.IPs), list(d.WithSub), list(d.Zones))
	return err
}
