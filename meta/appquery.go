package meta

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/proto"
)

// App-level discovery for operators: what meta's store holds of an
// application (its revisions and the interfaces each serves) and which
// applications serve an interface. Any meta node answers, from the store.
func (s *Server) appQueryRoutes() {
	s.http.HandleRead("GET /api/apps/app", s.handleAppQuery)
	s.http.HandleRead("GET /api/apps/interface", s.handleInterfaceQuery)
}

// AppRevisionJSON is one revision in GET /api/apps/app.
type AppRevisionJSON struct {
	Revision   string   `json:"revision"`
	Interfaces []string `json:"interfaces"`
}

// AppJSON answers GET /api/apps/app?name=.
type AppJSON struct {
	App       string            `json:"app"`
	Revisions []AppRevisionJSON `json:"revisions"` // sorted by revision
}

// InterfaceAppsJSON answers GET /api/apps/interface?interface=.
type InterfaceAppsJSON struct {
	Interface string   `json:"interface"`
	Apps      []string `json:"apps"`
}

// queryName reads form field field: 1 to proto.MaxIDLen bytes.
func queryName(r *http.Request, field string) (string, error) {
	v := r.URL.Query().Get(field)
	if v == "" || len(v) > proto.MaxIDLen {
		return "", fmt.Errorf("query parameter %s is required: 1 to %d bytes", field, proto.MaxIDLen)
	}
	return v, nil
}

func (s *Server) handleAppQuery(w http.ResponseWriter, r *http.Request) {
	app, err := queryName(r, "name")
	if err != nil {
		opshttp.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	rows, err := s.cfg.Store.ListConfig(r.Context(), appRevPrefix)
	if err != nil {
		writeConfigError(w, fmt.Errorf("cannot list app revisions: %w", err))
		return
	}
	out := AppJSON{App: app, Revisions: []AppRevisionJSON{}}
	for _, v := range rows {
		var rev proto.AppRevision
		if rev.Unmarshal(v) != nil || rev.App != app {
			continue
		}
		j := AppRevisionJSON{Revision: rev.Revision, Interfaces: make([]string, 0, len(rev.Services))}
		for _, svc := range rev.Services {
			j.Interfaces = append(j.Interfaces, svc.Interface)
		}
		out.Revisions = append(out.Revisions, j)
	}
	slices.SortFunc(out.Revisions, func(a, b AppRevisionJSON) int { return strings.Compare(a.Revision, b.Revision) })
	opshttp.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) handleInterfaceQuery(w http.ResponseWriter, r *http.Request) {
	iface, err := queryName(r, "interface")
	if err != nil {
		opshttp.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	out := InterfaceAppsJSON{Interface: iface, Apps: []string{}}
	v, ok, err := s.cfg.Store.GetConfig(r.Context(), ifaceKey(iface))
	if err != nil {
		writeConfigError(w, fmt.Errorf("cannot read the apps of %s: %w", iface, err))
		return
	}
	var e appEntry
	if ok && json.Unmarshal(v, &e) == nil && e.Interface == iface && e.Apps != nil {
		out.Apps = e.Apps
	}
	opshttp.WriteJSON(w, http.StatusOK, out)
}
