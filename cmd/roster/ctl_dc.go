package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/roster-registry/roster/meta"
)

// dcFlags are the flags of `ctl dc ...`, parsed apart from ctl's own: there
// --meta names the remote data center's meta nodes (RPC), not the local
// cluster's (ctl's --meta, given before "dc").
type dcFlags struct {
	meta, allow, deny string
	sync, pushRemote  bool
	json              bool
}

// parseDC parses the arguments after "dc": flags may come anywhere among them.
func parseDC(args []string) (pos []string, f dcFlags, err error) {
	fs := flag.NewFlagSet("ctl dc", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.meta, "meta", "", "dc add: comma-separated host:port of the remote data center's meta nodes (their RPC port)")
	fs.BoolVar(&f.sync, "sync", true, "dc add: import the remote data center's publishers")
	fs.BoolVar(&f.pushRemote, "push-remote", true, "dc add: push the imported publishers to this data center's global subscribers")
	fs.StringVar(&f.allow, "allow", "", "dc add: comma-separated dataId or dataInfoId patterns to import (empty: all)")
	fs.StringVar(&f.deny, "deny", "", "dc add: comma-separated patterns never imported (wins over --allow)")
	fs.BoolVar(&f.json, "json", false, "print JSON instead of tables")
	for {
		if err := fs.Parse(args); err != nil {
			return nil, f, fmt.Errorf("ctl dc: %w", err)
		}
		if fs.NArg() == 0 {
			return pos, f, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// dc runs `roster ctl dc ACTION ...` against the meta leader.
func (c *ctl) dc(ctx context.Context, args []string) error {
	pos, f, err := parseDC(args)
	if err != nil {
		return err
	}
	c.json = c.json || f.json
	if len(pos) == 0 {
		return errors.New("ctl dc: missing action (list, status, add or remove)")
	}
	action, pos := pos[0], pos[1:]
	switch action {
	case "list":
		return c.dcList(ctx)
	case "status":
		return c.dcStatus(ctx)
	case "add":
		if len(pos) != 1 {
			return errors.New("ctl dc add: want one data center NAME (the remote cluster's --datacenter)")
		}
		if f.meta == "" {
			return errors.New("ctl dc add: --meta is required: the remote meta nodes' RPC addresses, host:port,...")
		}
		form := url.Values{"name": {pos[0]}, "meta": {f.meta}, "sync": {strconv.FormatBool(f.sync)},
			"pushRemote": {strconv.FormatBool(f.pushRemote)}, "allow": {f.allow}, "deny": {f.deny}}
		return c.dcChange(ctx, "/api/dc/add", form)
	case "remove":
		if len(pos) != 1 {
			return errors.New("ctl dc remove: want one data center NAME")
		}
		return c.dcChange(ctx, "/api/dc/remove", url.Values{"name": {pos[0]}})
	}
	return fmt.Errorf("ctl dc: unknown action %q (list, status, add or remove)", action)
}

// dcChange sends an add or remove and prints the data center it changed.
func (c *ctl) dcChange(ctx context.Context, path string, form url.Values) error {
	var res struct {
		DataCenter meta.RemoteDCJSON `json:"dataCenter"`
	}
	if err := c.postLeader(ctx, path, form, &res); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(res)
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	printRemoteDCs(tw, []meta.RemoteDCJSON{res.DataCenter})
	return tw.Flush()
}

func (c *ctl) dcList(ctx context.Context) error {
	var l meta.DCListJSON
	if err := c.leaderGet(ctx, "/api/dc/list", &l); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(l)
	}
	fmt.Fprintf(c.out, "data center %s\n\n", l.DataCenter)
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	printRemoteDCs(tw, l.Remotes)
	return tw.Flush()
}

func printRemoteDCs(tw *tabwriter.Writer, dcs []meta.RemoteDCJSON) {
	fmt.Fprintln(tw, "REMOTE DC\tMETA\tSYNC\tPUSH REMOTE\tALLOW\tDENY")
	for _, d := range dcs {
		fmt.Fprintf(tw, "%s\t%s\t%t\t%t\t%s\t%s\n", d.Name, strings.Join(d.MetaAddrs, ","), d.Sync, d.PushRemote, dashList(d.Allow), dashList(d.Deny))
	}
}

func dashList(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

func (c *ctl) dcStatus(ctx context.Context) error {
	var st meta.DCStatusAllJSON
	if err := c.leaderGet(ctx, "/api/dc/status", &st); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(st)
	}
	fmt.Fprintf(c.out, "data center %s: %d data nodes, %d unreachable\n\n", st.DataCenter, st.DataNodes, len(st.Unreachable))
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REMOTE DC\tSYNC\tLINK\tSLOTS IMPORTING\tMAX LAG\tMAX STALE\tPUBLISHERS\tOLDEST REPAIR")
	for _, d := range st.Remotes {
		fmt.Fprintf(tw, "%s\t%t\t%s\t%d/%d\t%dms\t%dms\t%d\t%s\n", d.Name, d.Sync, linkWord(d.LinkUp), d.SlotsImporting, d.SlotsLed,
			d.MaxLagMillis, d.MaxStaleMillis, d.Publishers, dashString(d.OldestLastRepair))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "REMOTE DC\tDATA NODE\tLINK\tSLOTS IMPORTING\tLAG\tSTALE\tPUBLISHERS\tLAST REPAIR")
	for _, d := range st.Remotes {
		for _, n := range d.Nodes {
			if !n.Reported {
				fmt.Fprintf(tw, "%s\t%s\tnot reported\t-\t-\t-\t-\t-\n", d.Name, n.Node)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%dms\t%dms\t%d\t%s\n", d.Name, n.Node, linkWord(n.LinkUp), n.SlotsImporting, n.SlotsLed,
				n.LagMillis, n.StaleMillis, n.Publishers, dashString(n.LastRepair))
		}
	}
	if len(st.Unreachable) > 0 {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "UNREACHABLE DATA NODE\tERROR")
		for _, u := range st.Unreachable {
			fmt.Fprintf(tw, "%s\t%s\n", u.Node, u.Error)
		}
	}
	return tw.Flush()
}

func linkWord(up bool) string {
	if up {
		return "up"
	}
	return "down"
}

func dashString(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
