package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/roster-registry/roster/catalog"
	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/meta"
	"github.com/roster-registry/roster/slotstore"
)

// maxCatalogRows bounds what `ctl services` gathers page by page.
const maxCatalogRows = 1_000_000

// fullID turns a bare dataId into its dataInfoId with the default
// instance id and group; a dataInfoId is returned as is.
func fullID(id string) string {
	if strings.Contains(id, slotstore.Separator) {
		return id
	}
	return slotstore.DataInfoID(id, "", "")
}

// failedError reports the nodes a fan-out could not ask.
func failedError(what string, failed []catalog.NodeError) error {
	if len(failed) == 0 {
		return nil
	}
	var errs []error
	for _, f := range failed {
		errs = append(errs, fmt.Errorf("%s: %s", f.Node, f.Error))
	}
	return fmt.Errorf("%s is incomplete: %d nodes did not answer: %w", what, len(failed), errors.Join(errs...))
}

// services prints every service whose dataInfoId starts with prefix, with
// its publisher and subscriber counts, reading the catalog page by page.
func (c *ctl) services(ctx context.Context, prefix string) error {
	m, _, err := c.leader(ctx)
	if err != nil {
		return err
	}
	q := catalog.Query{Prefix: prefix, Limit: catalog.MaxLimit}
	all := catalog.Page{Services: []catalog.Service{}}
	for {
		var p catalog.Page
		if err := c.get(ctx, m+"/api/catalog/services?"+q.Values().Encode(), &p); err != nil {
			return err
		}
		all.Services = append(all.Services, p.Services...)
		all.Sessions, all.Failed = p.Sessions, append(all.Failed, p.Failed...)
		if !p.More || p.Next == "" || len(all.Services) >= maxCatalogRows {
			all.More = p.More
			break
		}
		q.After = p.Next
	}
	incomplete := failedError("the catalog", all.Failed)
	if c.json {
		return errors.Join(c.printJSON(all), incomplete)
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DATAINFOID\tPUBLISHERS\tSUBSCRIBERS")
	pubs, subs := 0, 0
	for _, s := range all.Services {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", s.DataInfoID, s.Publishers, s.Subscribers)
		pubs, subs = pubs+s.Publishers, subs+s.Subscribers
	}
	fmt.Fprintf(tw, "(%d services, %d publishers, %d subscribers, from %d sessions)\n", len(all.Services), pubs, subs, all.Sessions)
	return errors.Join(tw.Flush(), incomplete)
}

// subs prints the subscribers of a dataInfoId on every session.
func (c *ctl) subs(ctx context.Context, id string) error {
	m, _, err := c.leader(ctx)
	if err != nil {
		return err
	}
	var d catalog.Detail
	if err := c.get(ctx, m+"/api/catalog/service?dataInfoId="+url.QueryEscape(fullID(id)), &d); err != nil {
		return err
	}
	incomplete := failedError("the subscriber list", d.Failed)
	if c.json {
		return errors.Join(c.printJSON(d), incomplete)
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "dataInfoId\t%s\nslot\t%d (leader %s)\nversion\t%d\npublishers\t%d\nsubscribers\t%d (on %d sessions)\n\n",
		d.DataInfoID, d.Slot, d.Leader, d.Version, len(d.Publishers), len(d.Subscribers), d.Sessions)
	fmt.Fprintln(tw, "SESSION\tREGISTER ID\tCLIENT IP\tAPP\tZONE\tSCOPE\tACKED VERSION")
	for _, s := range d.Subscribers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", s.Session, s.RegisterID, s.ClientIP, s.AppName, s.Zone, s.Scope, s.PushedVersion)
	}
	return errors.Join(tw.Flush(), incomplete)
}

// WatchEventJSON is one push as `ctl watch --json` prints it (a line each).
type WatchEventJSON struct {
	Time       time.Time           `json:"time"`
	DataInfoID string              `json:"dataInfoId"`
	Version    uint64              `json:"version"`
	Zones      map[string][]string `json:"zones"`
}

// watch subscribes to dataID (data center scope) through the sessions
// meta lists, with the SDK, and prints every push until ctx ends or
// c.count pushes were printed.
func (c *ctl) watch(ctx context.Context, dataID string) error {
	m, _, err := c.leader(ctx)
	if err != nil {
		return err
	}
	var sessions []meta.NodeJSON
	if err := c.get(ctx, m+"/digest/session/node/query", &sessions); err != nil {
		return err
	}
	if len(sessions) == 0 {
		return errors.New("cannot watch: meta lists no live session")
	}
	addrs := make([]string, len(sessions))
	for i, s := range sessions {
		addrs[i] = s.RPCAddr
	}
	quiet := slog.New(slog.NewTextHandler(c.errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cl, err := client.New(ctx, client.Config{Sessions: addrs, AppName: "roster-ctl-watch", Token: c.clientToken, Logger: quiet})
	if err != nil {
		return fmt.Errorf("cannot connect to a session: %w", err)
	}
	defer cl.Close()
	updates := make(chan client.Update, 64)
	overflow := make(chan struct{}, 1)
	sub := client.Subscription{DataID: dataID, Scope: client.ScopeDataCenter}
	if parts := strings.Split(dataID, slotstore.Separator); len(parts) == 3 {
		sub.DataID, sub.InstanceID, sub.Group = parts[0], parts[1], parts[2]
	}
	if _, err := cl.Subscribe(ctx, sub, func(u client.Update) {
		select {
		case updates <- u:
		default: // the printer is behind: say so rather than block the SDK
			select {
			case overflow <- struct{}{}:
			default:
			}
		}
	}); err != nil {
		return fmt.Errorf("cannot subscribe to %s: %w", dataID, err)
	}
	fmt.Fprintf(c.errOut, "watching %s through %s (Ctrl-C stops)\n", fullID(dataID), strings.Join(addrs, ", "))
	printed := 0
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil // interrupted: the normal end of a watch
			}
			return fmt.Errorf("ctl watch: %w", ctx.Err())
		case <-overflow:
			fmt.Fprintln(c.errOut, "warning: pushes arrived faster than they were printed; some were skipped")
		case u := <-updates:
			if err := c.printUpdate(u); err != nil {
				return err
			}
			if printed++; c.count > 0 && printed >= c.count {
				return nil
			}
		}
	}
}

func (c *ctl) printUpdate(u client.Update) error {
	now := time.Now().UTC()
	if c.json {
		zones := u.Zones
		if zones == nil {
			zones = map[string][]string{}
		}
		return c.printJSONLine(WatchEventJSON{Time: now, DataInfoID: u.DataInfoID, Version: u.Version, Zones: zones})
	}
	addrs := u.Addresses()
	_, err := fmt.Fprintf(c.out, "%s %s version %d: %d addresses\n", now.Format(time.RFC3339Nano), u.DataInfoID, u.Version, len(addrs))
	for _, a := range addrs {
		if err == nil {
			_, err = fmt.Fprintf(c.out, "  %s\n", a)
		}
	}
	return err
}
