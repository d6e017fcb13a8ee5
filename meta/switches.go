package meta

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/proto"
)

// Switches (SOFARegistry's "provide data" switches) are session settings
// an operator changes live: each overrides the session flag of its name
// (proto.SwitchSpecs) until it is unset. One store row per switch set,
// under switchPrefix; sent to every session with the cluster config, so a
// change applies within a heartbeat. SOFARegistry reads its switches from
// a provide-data store that sessions poll on fixed timers; here a change
// reaches sessions with the next heartbeat reply, and every value is
// range-checked before it is stored.
const switchPrefix = "switch/"

// readSwitches reads the stored switches, sorted by name. A row that is no
// known switch or holds a value out of its range is reported in bad and
// left out.
func readSwitches(ctx context.Context, s *Server) (sw []proto.Switch, bad []string, err error) {
	rows, err := s.cfg.Store.ListConfig(ctx, switchPrefix)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot load the switches: %w", err)
	}
	for key, v := range rows {
		name := strings.TrimPrefix(key, switchPrefix)
		spec, ok := proto.FindSwitch(name)
		n, perr := strconv.ParseInt(string(v), 10, 64)
		if !ok || perr != nil || spec.Check(n) != nil {
			bad = append(bad, key)
			continue
		}
		sw = append(sw, proto.Switch{Name: name, Value: n})
	}
	slices.SortFunc(sw, func(a, b proto.Switch) int { return strings.Compare(a.Name, b.Name) })
	return sw, bad, nil
}

// switchRoutes registers the switch endpoints (docs/http-api.md).
func (s *Server) switchRoutes() {
	s.http.HandleAdmin("POST /api/switches/set", s.handleSwitch(true))
	s.http.HandleAdmin("POST /api/switches/unset", s.handleSwitch(false))
	s.http.HandleRead("GET /api/switches", s.handleSwitches)
}

// SwitchJSON is one switch in GET /api/switches.
type SwitchJSON struct {
	Name string `json:"name"`
	Unit string `json:"unit,omitempty"`
	Min  int64  `json:"min"`
	Max  int64  `json:"max"`
	Help string `json:"help"`
	// Set tells whether Value overrides the sessions' flag; when not, each
	// session runs with its own flag's value.
	Set   bool  `json:"set"`
	Value int64 `json:"value,omitempty"`
}

// handleSwitch sets the switch named by form field name to form field
// value, or unsets it.
func (s *Server) handleSwitch(set bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.Form.Get("name")
		spec, ok := proto.FindSwitch(name)
		if !ok {
			opshttp.WriteError(w, http.StatusBadRequest, fmt.Sprintf("no switch %q (GET /api/switches lists them)", name))
			return
		}
		var v int64
		if set {
			var err error
			if v, err = strconv.ParseInt(r.Form.Get("value"), 10, 64); err != nil {
				opshttp.WriteError(w, http.StatusBadRequest, fmt.Sprintf("form field value is %q: want an integer", r.Form.Get("value")))
				return
			}
			if err := spec.Check(v); err != nil {
				opshttp.WriteError(w, http.StatusBadRequest, err.Error())
				return
			}
		}
		err := s.updateNodeConfig(r.Context(), func(c *nodeConfig) (string, []byte, bool) {
			sw := slices.Clone(c.ops.Switches)
			i, found := slices.BinarySearchFunc(sw, name, func(x proto.Switch, n string) int { return strings.Compare(x.Name, n) })
			switch {
			case !set && !found, set && found && sw[i].Value == v:
				return "", nil, false
			case !set:
				c.ops.Switches = slices.Delete(sw, i, i+1)
				return switchPrefix + name, nil, true
			case found:
				sw[i].Value = v
			default:
				sw = slices.Insert(sw, i, proto.Switch{Name: name, Value: v})
			}
			c.ops.Switches = sw
			return switchPrefix + name, []byte(strconv.FormatInt(v, 10)), true
		})
		if err != nil {
			writeConfigError(w, err)
			return
		}
		s.handleSwitches(w, r)
	}
}

// handleSwitches answers every switch, with its value where one is set.
func (s *Server) handleSwitches(w http.ResponseWriter, r *http.Request) {
	c, err := s.storedNodeConfig(r.Context())
	if err != nil {
		writeConfigError(w, err)
		return
	}
	out := make([]SwitchJSON, 0, len(proto.SwitchSpecs))
	for _, spec := range proto.SwitchSpecs {
		j := SwitchJSON{Name: spec.Name, Unit: spec.Unit, Min: spec.Min, Max: spec.Max, Help: spec.Help}
		if i := slices.IndexFunc(c.ops.Switches, func(x proto.Switch) bool { return x.Name == spec.Name }); i >= 0 {
			j.Set, j.Value = true, c.ops.Switches[i].Value
		}
		out = append(out, j)
	}
	opshttp.WriteJSON(w, http.StatusOK, out)
}
