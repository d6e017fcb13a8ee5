package grpcresolver

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/roster-registry/roster/client"
)

// maxEcho bounds what an error repeats of a target.
const maxEcho = 128

// parseTarget reads a target "roster:///dataId?group=&instance=&zone=&scope="
// into a subscription, starting from the Builder's options (the target's
// parameters win). A "#" of a data id ("a#@#b") may be written as is or as
// %23: url.Parse takes what follows a raw "#" for a fragment, which is put
// back; so is a whole dataInfoId, "dataId#@#instance#@#group". The authority must be empty: the registry is the Builder's client.
func parseTarget(u url.URL, o options) (client.Subscription, error) {
	sub := client.Subscription{Group: o.group, InstanceID: o.instanceID, Scope: o.scope}
	path, rawQuery := u.Path, u.RawQuery
	if u.Fragment != "" || strings.HasSuffix(u.String(), "#") {
		frag, q, hasQuery := strings.Cut(u.Fragment, "?")
		path += "#" + frag
		if hasQuery {
			if rawQuery != "" {
				return sub, invalid(u, "two queries")
			}
			rawQuery = q
		}
	}
	if u.Host != "" {
		return sub, invalid(u, "the authority "+clip(u.Host)+" is not used: the registry is the Builder's client; write roster:///dataId")
	}
	sub.DataID = strings.TrimPrefix(path, "/")
	if sub.DataID == "" {
		return sub, invalid(u, "no data id; write roster:///dataId")
	}
	// A whole dataInfoId (dataId#@#instance#@#group, as the registry's
	// tools show it) names the instance and group too.
	full := false
	if parts := strings.Split(sub.DataID, "#@#"); len(parts) == 3 {
		sub.DataID, sub.InstanceID, sub.Group, full = parts[0], parts[1], parts[2], true
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return sub, invalid(u, "malformed query")
	}
	if q.Has("zone") && !q.Has("scope") {
		sub.Scope = client.ScopeZone // a zone asks for that zone's publishers
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return sub, invalid(u, "parameter "+clip(k)+" given more than once")
		}
		v := vs[0]
		if full && (k == "group" || k == "instance") {
			return sub, invalid(u, "a dataInfoId names its own "+k)
		}
		switch k {
		case "group":
			sub.Group = v
		case "instance":
			sub.InstanceID = v
		case "zone":
			sub.Zone = v
		case "scope":
			s, ok := scopes[strings.ToLower(v)]
			if !ok {
				return sub, invalid(u, "scope "+clip(v)+" is not zone, dataCenter or global")
			}
			sub.Scope = s
		default:
			return sub, invalid(u, "unknown parameter "+clip(k)+" (group, instance, zone, scope)")
		}
	}
	if sub.Zone != "" && sub.Scope != client.ScopeZone {
		return sub, invalid(u, "zone is only for scope=zone")
	}
	if _, err := client.DataInfoID(sub.DataID, sub.InstanceID, sub.Group); err != nil {
		return sub, fmt.Errorf("%w %q: %w", ErrInvalidTarget, clip(u.String()), err)
	}
	return sub, nil
}

// scopes are the names a target's scope= takes, lowercased.
var scopes = map[string]client.Scope{
	"zone": client.ScopeZone, "datacenter": client.ScopeDataCenter, "global": client.ScopeGlobal,
}

func invalid(u url.URL, why string) error {
	return fmt.Errorf("%w %q: %s", ErrInvalidTarget, clip(u.String()), why)
}

// clip cuts s for an error message.
func clip(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	return s[:maxEcho] + fmt.Sprintf("…(%d bytes)", len(s))
}
