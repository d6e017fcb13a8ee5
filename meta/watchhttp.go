package meta

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/proto"
)

// watchRoutes registers the watched config endpoints (docs/http-api.md):
// writes need the admin token, reads the read token, as for the switches.
func (s *Server) watchRoutes() {
	s.http.HandleAdmin("POST /api/config/put", s.handleConfigPut)
	s.http.HandleAdmin("POST /api/config/delete", s.handleConfigDelete)
	s.http.HandleRead("GET /api/config/get", s.handleConfigGet)
	s.http.HandleRead("GET /api/config/list", s.handleConfigList)
}

// ConfigKeyJSON is one key in the answers of the config endpoints; Value
// is left out of the list.
type ConfigKeyJSON struct {
	Key     string  `json:"key"`
	Version uint64  `json:"version"`
	Size    int     `json:"size"`
	Value   *string `json:"value,omitempty"`
}

// ConfigListJSON answers GET /api/config/list.
type ConfigListJSON struct {
	Revision uint64          `json:"revision"` // the highest version
	Keys     []ConfigKeyJSON `json:"keys"`
}

// ConfigWriteJSON answers a put or a delete.
type ConfigWriteJSON struct {
	Success bool   `json:"success"`
	Key     string `json:"key"`
	Version uint64 `json:"version"` // the write's (a put of the same value: the current one)
}

// configKey reads and checks form field key (a query parameter in reads,
// whose forms are not parsed).
func configKey(w http.ResponseWriter, r *http.Request) (string, bool) {
	k := r.Form.Get("key")
	if r.Method == http.MethodGet {
		k = r.URL.Query().Get("key")
	}
	if err := proto.CheckConfigKey(k); err != nil {
		opshttp.WriteError(w, http.StatusBadRequest, err.Error())
		return "", false
	}
	return k, true
}

func (s *Server) handleConfigPut(w http.ResponseWriter, r *http.Request) {
	key, ok := configKey(w, r)
	if !ok {
		return
	}
	if _, ok := r.Form["value"]; !ok {
		opshttp.WriteError(w, http.StatusBadRequest, "form field value is required (it may be empty)")
		return
	}
	v := r.Form.Get("value")
	if err := proto.CheckConfigValue(v); err != nil {
		opshttp.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	version, err := s.writeWatch(r.Context(), key, &v)
	writeConfigWrite(w, key, version, err)
}

func (s *Server) handleConfigDelete(w http.ResponseWriter, r *http.Request) {
	key, ok := configKey(w, r)
	if !ok {
		return
	}
	version, err := s.writeWatch(r.Context(), key, nil)
	writeConfigWrite(w, key, version, err)
}

// writeConfigWrite answers a write: 404 for a missing key, 409 past a
// bound, the config errors as writeConfigError does.
func writeConfigWrite(w http.ResponseWriter, key string, version uint64, err error) {
	var full *errConfigFull
	switch {
	case errors.Is(err, errNoConfigKey):
		opshttp.WriteError(w, http.StatusNotFound, fmt.Sprintf("no config key %q", key))
	case errors.As(err, &full):
		opshttp.WriteError(w, http.StatusConflict, err.Error())
	case err != nil:
		writeConfigError(w, err)
	default:
		opshttp.WriteJSON(w, http.StatusOK, ConfigWriteJSON{Success: true, Key: key, Version: version})
	}
}

func (s *Server) handleConfigGet(w http.ResponseWriter, r *http.Request) {
	key, ok := configKey(w, r)
	if !ok {
		return
	}
	entries, _, err := s.watchSnapshot(r.Context())
	if err != nil {
		writeConfigError(w, err)
		return
	}
	e, ok := entries[key]
	if !ok {
		opshttp.WriteError(w, http.StatusNotFound, fmt.Sprintf("no config key %q", key))
		return
	}
	opshttp.WriteJSON(w, http.StatusOK, ConfigKeyJSON{Key: key, Version: e.version, Size: len(e.value), Value: &e.value})
}

// handleConfigList answers every key starting with form field prefix
// (all when empty), sorted, without values.
func (s *Server) handleConfigList(w http.ResponseWriter, r *http.Request) {
	prefix := r.URL.Query().Get("prefix")
	entries, rev, err := s.watchSnapshot(r.Context())
	if err != nil {
		writeConfigError(w, err)
		return
	}
	out := ConfigListJSON{Revision: rev, Keys: []ConfigKeyJSON{}}
	for k, e := range entries {
		if strings.HasPrefix(k, prefix) {
			out.Keys = append(out.Keys, ConfigKeyJSON{Key: k, Version: e.version, Size: len(e.value)})
		}
	}
	slices.SortFunc(out.Keys, func(a, b ConfigKeyJSON) int { return strings.Compare(a.Key, b.Key) })
	opshttp.WriteJSON(w, http.StatusOK, out)
}
