package meta

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/proto"
)

// Blacklists are part of the cluster config: one store row per list (its
// entries sorted, one a line), fenced and migrated like the client-off
// list, and sent to every session with its heartbeat replies. SOFARegistry
// keeps its blacklist as an IP list per kind that sessions silently drop
// matching registrations for; here a refused client is told why (its
// handshake, publish or subscribe is answered with CodeForbidden), lists
// take CIDR prefixes and dataInfoId patterns, and a change reaches every
// session within a heartbeat (session.metaHeartbeat).

// blacklistKind names one list: its form value, store key and bound.
type blacklistKind struct {
	name  string
	key   string
	limit int
	check func(string) error
	// canon returns an entry's canonical form, so one address written two
	// ways is one entry.
	canon func(string) string
	list  func(o *proto.Ops) *[]string
}

var blacklistKinds = []blacklistKind{
	{name: "ip", key: "blacklist/ips", limit: proto.MaxBlockedIPs, check: proto.CheckBlockedIP, canon: canonBlockedIP,
		list: func(o *proto.Ops) *[]string { return &o.BlockedIPs }},
	{name: "publish", key: "blacklist/publish", limit: proto.MaxBlockedIDs, check: proto.CheckBlockedID, canon: sameString,
		list: func(o *proto.Ops) *[]string { return &o.BlockedPublish }},
	{name: "subscribe", key: "blacklist/subscribe", limit: proto.MaxBlockedIDs, check: proto.CheckBlockedID, canon: sameString,
		list: func(o *proto.Ops) *[]string { return &o.BlockedSubscribe }},
}

var blacklistRefused = metrics.NewCounter("roster_meta_blacklist_refused_total")

// canonBlockedIP writes an address as itself (unmapped) and a prefix masked.
func canonBlockedIP(s string) string {
	p, err := proto.ParseBlockedIP(s)
	if err != nil {
		return s
	}
	if !strings.Contains(s, "/") {
		return p.Addr().String()
	}
	return p.String()
}

func sameString(s string) string { return s }

func findBlacklistKind(name string) (*blacklistKind, bool) {
	for i := range blacklistKinds {
		if blacklistKinds[i].name == name {
			return &blacklistKinds[i], true
		}
	}
	return nil, false
}

// readBlacklists reads the stored lists into o. An entry that fails its
// check is reported in bad and left out: the rest of the config must load.
func (s *Server) readBlacklists(ctx context.Context, o *proto.Ops) (bad []string, err error) {
	for i := range blacklistKinds {
		k := &blacklistKinds[i]
		v, _, err := s.cfg.Store.GetConfig(ctx, k.key)
		if err != nil {
			return bad, fmt.Errorf("cannot load the %s blacklist: %w", k.name, err)
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

// blacklistRoutes registers the blacklist endpoints (docs/http-api.md).
func (s *Server) blacklistRoutes() {
	s.http.HandleAdmin("POST /api/blacklist/add", s.handleBlacklist(true))
	s.http.HandleAdmin("POST /api/blacklist/remove", s.handleBlacklist(false))
	s.http.HandleRead("GET /api/blacklist/query", s.handleBlacklistQuery)
}

// BlacklistJSON answers GET /api/blacklist/query.
type BlacklistJSON struct {
	IPs       []string `json:"ips"`       // client IPs and prefixes refused at handshake
	Publish   []string `json:"publish"`   // dataInfoId patterns refused for publish
	Subscribe []string `json:"subscribe"` // ... for subscribe
}

// BlacklistResultJSON answers POST /api/blacklist/add and remove.
type BlacklistResultJSON struct {
	Success bool `json:"success"`
	Changed int  `json:"changed"` // entries added (or removed)
	Total   int  `json:"total"`   // entries on the list now
}

// handleBlacklist adds entries to or removes them from the list named by
// form field kind (ip, publish or subscribe); form field values holds the
// entries, comma-separated, and may repeat.
func (s *Server) handleBlacklist(add bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		k, ok := findBlacklistKind(r.Form.Get("kind"))
		if !ok {
			opshttp.WriteError(w, http.StatusBadRequest, fmt.Sprintf("form field kind is %q: want ip, publish or subscribe", r.Form.Get("kind")))
			return
		}
		values, _ := patterns(r, "values")
		if len(values) == 0 {
			opshttp.WriteError(w, http.StatusBadRequest, "form field values is required: comma-separated entries")
			return
		}
		if len(values) > k.limit {
			opshttp.WriteError(w, http.StatusBadRequest, fmt.Sprintf("%d entries, more than the list may hold (%d)", len(values), k.limit))
			return
		}
		var bad []string
		for i, v := range values {
			if err := k.check(v); err != nil {
				bad = append(bad, v)
				continue
			}
			values[i] = k.canon(v)
		}
		if len(bad) > 0 {
			n := len(bad)
			bad = bad[:min(n, maxBadIPsShown)]
			opshttp.WriteError(w, http.StatusBadRequest, fmt.Sprintf("%d malformed %s entries: %s", n, k.name, strings.Join(bad, ", ")))
			return
		}
		var res BlacklistResultJSON
		full := false
		err := s.updateNodeConfig(r.Context(), func(c *nodeConfig) (string, []byte, bool) {
			cur := k.list(&c.ops)
			set := make(map[string]struct{}, len(*cur)+len(values))
			for _, e := range *cur {
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
				full = true
				return "", nil, false
			}
			if res.Changed == 0 {
				return "", nil, false
			}
			list := sortedKeys(set)
			// A copy of the other lists is shared with the published
			// config, never modified: only this one is replaced.
			*cur = slices.Clip(list)
			if len(list) == 0 {
				*cur = nil
				return k.key, nil, true
			}
			return k.key, []byte(strings.Join(list, "\n")), true
		})
		if err != nil {
			writeConfigError(w, err)
			return
		}
		if full {
			blacklistRefused.Inc()
			opshttp.WriteError(w, http.StatusConflict, fmt.Sprintf(
				"the %s blacklist would hold %d entries, limit %d: nothing changed", k.name, res.Total, k.limit))
			return
		}
		res.Success = true
		opshttp.WriteJSON(w, http.StatusOK, res)
	}
}

func (s *Server) handleBlacklistQuery(w http.ResponseWriter, r *http.Request) {
	c, err := s.storedNodeConfig(r.Context())
	if err != nil {
		writeConfigError(w, err)
		return
	}
	opshttp.WriteJSON(w, http.StatusOK, BlacklistJSON{IPs: nonNil(c.ops.BlockedIPs),
		Publish: nonNil(c.ops.BlockedPublish), Subscribe: nonNil(c.ops.BlockedSubscribe)})
}
