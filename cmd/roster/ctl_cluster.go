package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/roster-registry/roster/data"
	"github.com/roster-registry/roster/meta"
	"github.com/roster-registry/roster/session"
	"github.com/roster-registry/roster/slotstore"
)

// leader returns the base URL of the meta node that leads, with what it
// says of its lease: one of c.metas, or the one a follower among them names.
func (c *ctl) leader(ctx context.Context) (string, meta.LeaderInfo, error) {
	var errs []error
	hint, hintHTTP := "", ""
	for _, m := range c.metas {
		var info meta.LeaderInfo
		if err := c.get(ctx, m+"/meta/leader/query", &info); err != nil {
			errs = append(errs, err)
			continue
		}
		if info.IsLeader {
			return m, info, nil
		}
		if info.Leader != "" {
			hint = info.Leader
		}
		if info.LeaderHTTPAddr != "" {
			hintHTTP = baseURL(info.LeaderHTTPAddr)
		}
	}
	if hintHTTP != "" {
		var info meta.LeaderInfo
		err := c.get(ctx, hintHTTP+"/meta/leader/query", &info)
		if err == nil && info.IsLeader {
			return hintHTTP, info, nil
		}
		if err == nil {
			err = fmt.Errorf("%s, named leader by a follower, does not lead (an election may be under way; try again)", hintHTTP)
		}
		errs = append(errs, err)
	} else if hint != "" {
		errs = append(errs, fmt.Errorf("no meta node of --meta leads; the leader is %s (RPC address): add its HTTP address to --meta", hint))
	} else if len(errs) == 0 {
		errs = append(errs, errors.New("no meta node of --meta leads (an election may be under way; try again)"))
	}
	return "", meta.LeaderInfo{}, fmt.Errorf("cannot find the meta leader: %w", errors.Join(errs...))
}

// tableStatus returns the leader's slot table with sync status and balance.
func (c *ctl) tableStatus(ctx context.Context) (string, meta.LeaderInfo, meta.SlotTableStatusJSON, error) {
	var st meta.SlotTableStatusJSON
	m, info, err := c.leader(ctx)
	if err != nil {
		return "", info, st, err
	}
	err = c.get(ctx, m+"/openapi/v1/slot/table/status", &st)
	return m, info, st, err
}

// StatusJSON is what `ctl status --json` prints.
type StatusJSON struct {
	Leader               meta.LeaderInfo        `json:"leader"`
	Metas                []MetaStatusJSON       `json:"metas"`
	SlotTableEpoch       uint64                 `json:"slotTableEpoch"`
	Slots                int                    `json:"slots"`
	Replicas             int                    `json:"replicas"`
	LeaderlessSlots      int                    `json:"leaderlessSlots"`
	UnsyncedSlots        int                    `json:"unsyncedSlots"`
	UnderReplicatedSlots int                    `json:"underReplicatedSlots"`
	DataNodes            []meta.NodeBalanceJSON `json:"dataNodes"`
	Sessions             []meta.NodeJSON        `json:"sessions"`
	Draining             []meta.DrainNodeJSON   `json:"draining"` // nodes draining or ordered to
}

// MetaStatusJSON is a meta node as `ctl status` saw it: each of --meta,
// and the leader when a follower named it.
type MetaStatusJSON struct {
	URL      string `json:"url"`
	RPCAddr  string `json:"rpcAddr,omitempty"`
	IsLeader bool   `json:"isLeader"`
	Error    string `json:"error,omitempty"` // unreachable
}

// metaStatus asks every meta node of --meta (and the leader at leaderURL)
// what it is.
func (c *ctl) metaStatus(ctx context.Context, leaderURL string) []MetaStatusJSON {
	urls := c.metas
	if !slices.Contains(urls, leaderURL) {
		urls = append(slices.Clone(urls), leaderURL)
	}
	out := make([]MetaStatusJSON, 0, len(urls))
	for _, u := range urls {
		ms := MetaStatusJSON{URL: u}
		var nodes []meta.MetaNodeJSON
		if err := c.get(ctx, u+"/digest/meta/node/query", &nodes); err != nil {
			ms.Error = err.Error()
		}
		for _, n := range nodes {
			if n.Self {
				ms.RPCAddr, ms.IsLeader = n.RPCAddr, n.IsLeader
			}
		}
		out = append(out, ms)
	}
	return out
}

func (c *ctl) status(ctx context.Context) error {
	m, info, st, err := c.tableStatus(ctx)
	if err != nil {
		return err
	}
	out := StatusJSON{Leader: info, Metas: c.metaStatus(ctx, m), SlotTableEpoch: st.Epoch, Slots: len(st.Slots),
		Replicas: st.Replicas, LeaderlessSlots: st.Leaderless, UnsyncedSlots: st.UnsyncedSlots,
		UnderReplicatedSlots: st.UnderReplicated, DataNodes: st.DataNodes}
	if err := c.get(ctx, m+"/digest/session/node/query", &out.Sessions); err != nil {
		return err
	}
	if err := c.get(ctx, m+"/api/node/drain", &out.Draining); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(out)
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "data center\t%s\n", info.DataCenter)
	fmt.Fprintf(tw, "meta leader\t%s (epoch %d, %s)\n", info.Leader, info.Epoch, m)
	fmt.Fprintf(tw, "slot table\tepoch %d, %d slots, %d replicas each: %d without leader, %d with unsynced followers, %d under-replicated\n",
		out.SlotTableEpoch, out.Slots, out.Replicas, out.LeaderlessSlots, out.UnsyncedSlots, out.UnderReplicatedSlots)
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "META\tRPC\tROLE")
	for _, ms := range out.Metas {
		role := "follower"
		switch {
		case ms.Error != "":
			role = "unreachable: " + ms.Error
		case ms.IsLeader:
			role = "leader"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", ms.URL, ms.RPCAddr, role)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "DATA NODE\tHTTP\tLEADERS\tFOLLOWERS\tSYNCED")
	for _, n := range out.DataNodes {
		httpAddr := n.HTTPAddr
		if n.ID == "" {
			httpAddr = "(gone)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\n", n.RPCAddr, httpAddr, n.Leaders, n.Followers, n.SyncedFollowers)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "SESSION\tHTTP")
	for _, n := range out.Sessions {
		fmt.Fprintf(tw, "%s\t%s\n", n.RPCAddr, n.HTTPAddr)
	}
	if len(out.Draining) > 0 {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "DRAINING\tROLE\tLEADERS\tFOLLOWERS\tDRAINED\tPENDING ORDER")
		for _, n := range out.Draining {
			drained := "-" // meta does not count a session's clients
			if n.Role == "data" {
				drained = strconv.FormatBool(n.Drained)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", n.RPCAddr, n.Role, n.Leaders, n.Followers, drained, n.Order)
		}
	}
	return tw.Flush()
}

func (c *ctl) slots(ctx context.Context) error {
	_, _, st, err := c.tableStatus(ctx)
	if err != nil {
		return err
	}
	if c.unsynced {
		live := map[string]bool{}
		for _, n := range st.DataNodes {
			live[n.RPCAddr] = n.ID != ""
		}
		st.Slots = slices.DeleteFunc(st.Slots, func(sl meta.SlotStatusJSON) bool { return healthySlot(sl, live, st.Replicas) })
	}
	if c.json {
		return c.printJSON(st)
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "epoch %d\n", st.Epoch)
	if c.unsynced {
		fmt.Fprintf(tw, "%d slots without a leader, with an unsynced follower or under-replicated\n", len(st.Slots))
	}
	fmt.Fprintln(tw, "SLOT\tLEADER\tLEADER EPOCH\tFOLLOWERS")
	for _, sl := range st.Slots {
		fs := make([]string, len(sl.Followers))
		for i, f := range sl.Followers {
			fs[i] = f.Node
			if !f.Synced {
				fs[i] += " (syncing)"
			}
		}
		leader := sl.Leader
		if leader == "" {
			leader = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\n", sl.ID, leader, sl.LeaderEpoch, strings.Join(fs, ", "))
	}
	return tw.Flush()
}

// healthySlot reports whether a slot has a live leader and replicas-1 live,
// synced followers.
func healthySlot(sl meta.SlotStatusJSON, live map[string]bool, replicas int) bool {
	if sl.Leader == "" || !live[sl.Leader] || !sl.Synced {
		return false
	}
	n := 1
	for _, f := range sl.Followers {
		if live[f.Node] {
			n++
		}
	}
	return n >= replicas
}

// datum shows a dataInfoId as its slot's leader holds it. A bare dataId
// takes the default instance id and group.
func (c *ctl) datum(ctx context.Context, id string) error {
	id = fullID(id)
	_, _, st, err := c.tableStatus(ctx)
	if err != nil {
		return err
	}
	if len(st.Slots) == 0 {
		return errors.New("cannot query a datum: the meta leader has no slot table yet")
	}
	slot := slotstore.SlotOf(id, len(st.Slots))
	leader := st.Slots[slot].Leader
	httpAddr := ""
	for _, n := range st.DataNodes {
		if n.RPCAddr == leader && n.ID != "" {
			httpAddr = n.HTTPAddr
		}
	}
	if httpAddr == "" {
		return fmt.Errorf("cannot query a datum: slot %d has no live leader (%q)", slot, leader)
	}
	var d data.DatumJSON
	if err := c.get(ctx, baseURL(httpAddr)+"/digest/datum/query?dataInfoId="+url.QueryEscape(id), &d); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(d)
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "dataInfoId\t%s\nslot\t%d (leader %s)\nversion\t%d\npublishers\t%d\n\n", d.DataInfoID, slot, leader, d.Version, len(d.Publishers))
	fmt.Fprintln(tw, "REGISTER ID\tCLIENT IP\tAPP\tZONE\tVERSION\tDATA")
	sort.Slice(d.Publishers, func(i, j int) bool { return d.Publishers[i].RegisterID < d.Publishers[j].RegisterID })
	for _, p := range d.Publishers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", p.RegisterID, p.ClientIP, p.AppName, p.Zone, p.Version, strings.Join(p.Data, " "))
	}
	return tw.Flush()
}

// sessions returns the sessions the meta leader lists.
func (c *ctl) sessions(ctx context.Context) ([]meta.NodeJSON, error) {
	m, _, err := c.leader(ctx)
	if err != nil {
		return nil, err
	}
	var ns []meta.NodeJSON
	err = c.get(ctx, m+"/digest/session/node/query", &ns)
	return ns, err
}

func (c *ctl) conns(ctx context.Context) error {
	ns, err := c.sessions(ctx)
	if err != nil {
		return err
	}
	out := []session.ConnectionsJSON{}
	var errs []error
	for _, n := range ns {
		var cj session.ConnectionsJSON
		if err := c.get(ctx, baseURL(n.HTTPAddr)+"/digest/connections/query", &cj); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, cj)
	}
	if c.json {
		return errors.Join(c.printJSON(out), errors.Join(errs...))
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tCLIENT IP\tCONNECTIONS\tPUBLISHERS\tSUBSCRIBERS")
	for _, cj := range out {
		fmt.Fprintf(tw, "%s\t(all)\t%d\t\t\n", cj.Session, cj.Connections)
		for _, e := range cj.ByIP {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\n", cj.Session, e.ClientIP, e.Connections, e.Publishers, e.Subscribers)
		}
	}
	return errors.Join(tw.Flush(), errors.Join(errs...))
}

// IPSessionJSON is one session's answer in `ctl ip --json`.
type IPSessionJSON struct {
	Session string         `json:"session"`
	Answer  session.IPJSON `json:"answer"`
}

func (c *ctl) ip(ctx context.Context, ip string) error {
	ns, err := c.sessions(ctx)
	if err != nil {
		return err
	}
	out := []IPSessionJSON{}
	var errs []error
	for _, n := range ns {
		var a session.IPJSON
		if err := c.get(ctx, baseURL(n.HTTPAddr)+"/digest/ip/query?ip="+url.QueryEscape(ip), &a); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, IPSessionJSON{Session: n.RPCAddr, Answer: a})
	}
	if c.json {
		return errors.Join(c.printJSON(out), errors.Join(errs...))
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tKIND\tDATAINFOID\tREGISTER ID\tAPP\tDETAIL")
	for _, s := range out {
		for _, cn := range s.Answer.Connections {
			fmt.Fprintf(tw, "%s\tconnection\t\t%s\t%s\t%s, %d pubs, %d subs\n", s.Session, cn.ClientID, cn.AppName, cn.RemoteAddr, cn.Publishers, cn.Subscribers)
		}
		for _, p := range s.Answer.Publishers {
			fmt.Fprintf(tw, "%s\tpublisher\t%s\t%s\t%s\t%s\n", s.Session, p.DataInfoID, p.RegisterID, p.AppName, strings.Join(p.Data, " "))
		}
		for _, sub := range s.Answer.Subscribers {
			fmt.Fprintf(tw, "%s\tsubscriber\t%s\t%s\t%s\tscope %s, pushed %d\n", s.Session, sub.DataInfoID, sub.RegisterID, sub.AppName, sub.Scope, sub.PushedVersion)
		}
	}
	return errors.Join(tw.Flush(), errors.Join(errs...))
}

// metaCall sends a request to the meta leader and prints its answer: as
// is with --json, else as "key  value" lines; label names an answer that
// is not an object.
func (c *ctl) metaCall(ctx context.Context, method, path string, form url.Values, label string) error {
	m, _, err := c.leader(ctx)
	if err != nil {
		return err
	}
	b, err := c.call(ctx, method, m+path, form)
	if err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("cannot decode the answer of %s: %w", path, err)
	}
	if c.json {
		return c.printJSON(v)
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	if _, obj := v.(map[string]any); obj {
		label = ""
	}
	printValue(tw, label, v)
	return tw.Flush()
}

// printValue writes v, an answer of unknown shape, as "key  value" lines:
// objects by sorted key, lists of scalars joined, anything deeper as JSON.
func printValue(tw *tabwriter.Writer, key string, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if key != "" {
				k = key + "." + k
			}
			printValue(tw, k, x[k])
		}
		if len(keys) == 0 && key != "" {
			fmt.Fprintf(tw, "%s\t-\n", key)
		}
	default:
		if key == "" {
			key = "result"
		}
		fmt.Fprintf(tw, "%s\t%s\n", key, scalar(v))
	}
}

func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if _, deep := e.(map[string]any); deep {
				b, _ := json.Marshal(x)
				return string(b)
			}
			parts[i] = scalar(e)
		}
		if len(parts) == 0 {
			return "-"
		}
		return strings.Join(parts, ", ")
	}
	b, _ := json.Marshal(v)
	return string(b)
}
