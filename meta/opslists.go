package meta

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/proto"
)

// The operators' lists (proto.Ops: blacklists, zones off, client-off with
// subscribers, zones without pushes, the gray list) are part of the cluster
// config: one store row per list (its entries sorted, one a line), fenced
// and migrated like the client-off list, sent to every session with its
// heartbeat replies, so a change applies cluster-wide within a heartbeat
// (session.metaHeartbeat).

// opsList names one list: its name in forms and messages, store key, bound,
// entry check and place in proto.Ops.
type opsList struct {
	name  string
	key   string
	limit int
	check func(string) error
	// canon returns an entry's canonical form, so one address written two
	// ways is one entry; it is called on checked entries only.
	canon func(string) string
	list  func(o *proto.Ops) *[]string
}

// opsLists are every list; the blacklists come first (blacklist.go).
var opsLists = []*opsList{
	{name: "ip", key: "blacklist/ips", limit: proto.MaxBlockedIPs, check: proto.CheckBlockedIP, canon: canonBlockedIP,
		list: func(o *proto.Ops) *[]string { return &o.BlockedIPs }},
	{name: "publish", key: "blacklist/publish", limit: proto.MaxBlockedIDs, check: proto.CheckBlockedID, canon: sameString,
		list: func(o *proto.Ops) *[]string { return &o.BlockedPublish }},
	{name: "subscribe", key: "blacklist/subscribe", limit: proto.MaxBlockedIDs, check: proto.CheckBlockedID, canon: sameString,
		list: func(o *proto.Ops) *[]string { return &o.BlockedSubscribe }},
	offZones, offWithSub, stoppedZones, grayIPs,
}

var (
	offZones = &opsList{name: "client-off zones", key: "clientManager/zoneOff", limit: proto.MaxZones,
		check: proto.CheckZone, canon: sameString, list: func(o *proto.Ops) *[]string { return &o.OffZones }}
	offWithSub = &opsList{name: "client-off with subscribers", key: "clientManager/clientOffWithSub", limit: proto.MaxClientOff,
		check: checkClientIP, canon: canonClientIP, list: func(o *proto.Ops) *[]string { return &o.OffWithSub }}
	stoppedZones = &opsList{name: "push-stopped zones", key: "push/stoppedZones", limit: proto.MaxZones,
		check: proto.CheckZone, canon: sameString, list: func(o *proto.Ops) *[]string { return &o.StoppedZones }}
	grayIPs = &opsList{name: "gray", key: "push/gray", limit: proto.MaxGrayIPs,
		check: checkClientIP, canon: canonClientIP, list: func(o *proto.Ops) *[]string { return &o.GrayIPs }}
)

var (
	clientOffRefused = metrics.NewCounter("roster_meta_client_off_refused_total")
	opsListRefused   = metrics.NewCounter("roster_meta_ops_list_refused_total")
)

// canonBlockedIP writes an address as itself (unmapped) and a prefix masked.
func canonBlockedIP(s string) string {
	p, _ := proto.ParseBlockedIP(s) // checked
	if !strings.Contains(s, "/") {
		return p.Addr().String()
	}
	return p.String()
}

// checkClientIP accepts what parseIPs does (client-off's rules).
func checkClientIP(s string) error {
	_, err := parseIPs([]string{s})
	return err
}

func canonClientIP(s string) string {
	ips, _ := parseIPs([]string{s}) // checked
	return ips[0]
}

func sameString(s string) string { return s }

// readOpsLists reads the stored lists into o. An entry that fails its
// check, or is over its list's bound, is reported in bad and left out:
// the rest of the config must load.
func (s *Server) readOpsLists(ctx context.Context, o *proto.Ops) (bad []string, err error) {
	for _, k := range opsLists {
		v, _, err := s.cfg.Store.GetConfig(ctx, k.key)
		if err != nil {
			return bad, fmt.Errorf("cannot load the %s list: %w", k.name, err)
		}
		var list []string
		for _, e := range strings.Split(string(v), "\n") {
			switch {
			case e == "":
			case k.check(e) != nil || len(list) >= k.limit:
				bad = append(bad, k.name+":"+e)
			default:
				list = append(list, e)
			}
		}
		*k.list(o) = list
	}
	return bad, nil
}

// listValues reads the entries of form field field (comma-separated, may
// repeat) for list k, checked and canonical; the error says what is wrong.
func listValues(r *http.Request, field string, k *opsList) ([]string, error) {
	values, _ := patterns(r, field)
	if len(values) == 0 {
		return nil, fmt.Errorf("form field %s is required: comma-separated entries", field)
	}
	if len(values) > k.limit {
		return nil, fmt.Errorf("%d entries, more than the %s list may hold (%d)", len(values), k.name, k.limit)
	}
	var bad []string
	for i, v := range values {
		if k.check(v) != nil {
			bad = append(bad, v)
			continue
		}
		values[i] = k.canon(v)
	}
	if len(bad) > 0 {
		n := len(bad)
		return nil, fmt.Errorf("%d malformed %s entries: %s", n, k.name, strings.Join(bad[:min(n, maxBadIPsShown)], ", "))
	}
	return values, nil
}

// ListResultJSON answers a change of an operators' list.
type ListResultJSON struct {
	Success bool `json:"success"`
	Changed int  `json:"changed"` // entries added (or removed)
	Total   int  `json:"total"`   // entries on the list now
}

// errListFull refuses a change that would take a list past its bound.
type errListFull struct {
	k     *opsList
	total int
}

func (e *errListFull) Error() string {
	return fmt.Sprintf("the %s list would hold %d entries, limit %d: nothing changed", e.k.name, e.total, e.k.limit)
}

// changeOpsList adds values to list k (or removes them), as leader.
func (s *Server) changeOpsList(ctx context.Context, k *opsList, values []string, add bool) (ListResultJSON, error) {
	var res ListResultJSON
	var full error
	err := s.updateNodeConfig(ctx, func(c *nodeConfig) (string, []byte, bool) {
		cur := k.list(&c.ops)
		next, ok := changeList(*cur, values, add, k, &res, &full)
		if !ok {
			return "", nil, false
		}
		// The other lists are shared with the published config and never
		// modified: only this one is replaced.
		*cur = next
		if len(next) == 0 {
			return k.key, nil, true
		}
		return k.key, []byte(strings.Join(next, "\n")), true
	})
	if err == nil {
		err = full
	}
	res.Success = err == nil
	return res, err
}

// changeList returns list cur with values added (or removed), sorted,
// counting in res; ok is false when nothing changes, or when the list
// would pass k's bound (full is set then).
func changeList(cur, values []string, add bool, k *opsList, res *ListResultJSON, full *error) (next []string, ok bool) {
	set := make(map[string]struct{}, len(cur)+len(values))
	for _, e := range cur {
		set[e] = struct{}{}
	}
	for _, v := range values {
		_, had := set[v]
		switch {
		case add && !had:
			set[v] = struct{}{}
			res.Changed++
		case !add && had:
			delete(set, v)
			res.Changed++
		}
	}
	res.Total = len(set)
	if add && res.Total > k.limit {
		*full = &errListFull{k, res.Total}
		return nil, false
	}
	if res.Changed == 0 {
		return nil, false
	}
	if len(set) == 0 {
		return nil, true
	}
	return sortedKeys(set), true
}

// writeListChange answers a list change: 409 for a full list, the config
// errors as writeConfigError does, else res.
func writeListChange(w http.ResponseWriter, res ListResultJSON, err error) {
	if e, ok := err.(*errListFull); ok {
		if e.k == clientOffList {
			clientOffRefused.Inc()
		} else {
			opsListRefused.Inc()
		}
		opshttp.WriteError(w, http.StatusConflict, e.Error())
		return
	}
	if err != nil {
		writeConfigError(w, err)
		return
	}
	opshttp.WriteJSON(w, http.StatusOK, res)
}

// handleListChange serves a change of list k read from form field field.
func (s *Server) handleListChange(k *opsList, field string, add bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		values, err := listValues(r, field, k)
		if err != nil {
			opshttp.WriteError(w, http.StatusBadRequest, err.Error())
			return
		}
		res, err := s.changeOpsList(r.Context(), k, values, add)
		writeListChange(w, res, err)
	}
}
