package meta

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/roster-registry/roster/catalog"
	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/meta/store"
	"github.com/roster-registry/roster/proto"
)

// The remote data centers this cluster links to (DESIGN.md §10) are part of
// the cluster config: one row of the store's config table per remote DC
// under dcPrefix (JSON), fenced and migrated like the credentials, loaded
// by each new leadership and sent to every data node with its heartbeat
// replies (proto.NodeHeartbeatReply.RemoteDCs): its slot leaders import
// the remote publishers of their slots. A change bumps the config epoch,
// so every data node has it within a heartbeat of the write.
const dcPrefix = "dc/remote/"

// maxRemoteDCBytes bounds the encoded list a heartbeat reply carries: the
// per-field limits alone would allow megabytes.
const maxRemoteDCBytes = 256 << 10

// dcStatusTimeout bounds GET /api/dc/status: the fan-out to every data node.
const dcStatusTimeout = 5 * time.Second

// storedRemoteDC is a remote DC as the store keeps it (the name is the key).
type storedRemoteDC struct {
	MetaAddrs  []string `json:"metaAddrs"`
	Sync       bool     `json:"sync"`
	PushRemote bool     `json:"pushRemote"`
	Allow      []string `json:"allow,omitempty"`
	Deny       []string `json:"deny,omitempty"`
}

// readRemoteDCs reads the stored remote DCs, sorted by name. A row that
// does not hold a valid one, names this cluster's own data center, or is
// beyond MaxRemoteDCs is reported in bad and left out.
func readRemoteDCs(ctx context.Context, st store.Store, self string) (dcs []proto.RemoteDC, bad []string, err error) {
	rows, err := st.ListConfig(ctx, dcPrefix)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot load the remote data centers: %w", err)
	}
	for key, v := range rows {
		d, err := decodeRemoteDC(strings.TrimPrefix(key, dcPrefix), v)
		if err != nil || d.Name == self {
			bad = append(bad, key)
			continue
		}
		dcs = append(dcs, d)
	}
	slices.SortFunc(dcs, func(x, y proto.RemoteDC) int { return strings.Compare(x.Name, y.Name) })
	if len(dcs) > proto.MaxRemoteDCs {
		for _, d := range dcs[proto.MaxRemoteDCs:] {
			bad = append(bad, dcPrefix+d.Name)
		}
		dcs = dcs[:proto.MaxRemoteDCs]
	}
	slices.Sort(bad)
	return dcs, bad, nil
}

func decodeRemoteDC(name string, v []byte) (proto.RemoteDC, error) {
	var sd storedRemoteDC
	if err := json.Unmarshal(v, &sd); err != nil {
		return proto.RemoteDC{}, fmt.Errorf("cannot decode remote data center %s: %w", name, err)
	}
	d := proto.RemoteDC{Name: name, MetaAddrs: sd.MetaAddrs, Sync: sd.Sync, PushRemote: sd.PushRemote, Allow: sd.Allow, Deny: sd.Deny}
	return d, d.Validate()
}

func encodeRemoteDC(d *proto.RemoteDC) []byte {
	b, _ := json.Marshal(storedRemoteDC{MetaAddrs: d.MetaAddrs, Sync: d.Sync, PushRemote: d.PushRemote,
		Allow: d.Allow, Deny: d.Deny}) // cannot fail: strings and bools only
	return b
}

// dcRoutes registers the data-center endpoints (docs/http-api.md).
func (s *Server) dcRoutes() {
	s.http.HandleAdmin("POST /api/dc/add", s.handleDCAdd)
	s.http.HandleAdmin("POST /api/dc/remove", s.handleDCRemove)
	s.http.HandleRead("GET /api/dc/list", s.handleDCList)
	s.http.HandleRead("GET /api/dc/status", s.handleDCStatus)
}

// RemoteDCJSON is a remote data center as the endpoints show it.
type RemoteDCJSON struct {
	Name       string   `json:"name"`
	MetaAddrs  []string `json:"metaAddrs"`
	Sync       bool     `json:"sync"`
	PushRemote bool     `json:"pushRemote"`
	Allow      []string `json:"allow"`
	Deny       []string `json:"deny"`
}

// DCListJSON answers GET /api/dc/list.
type DCListJSON struct {
	DataCenter string         `json:"dataCenter"` // this cluster's
	Remotes    []RemoteDCJSON `json:"remotes"`
}

func remoteDCJSON(d *proto.RemoteDC) RemoteDCJSON {
	return RemoteDCJSON{Name: d.Name, MetaAddrs: nonNil(d.MetaAddrs), Sync: d.Sync, PushRemote: d.PushRemote,
		Allow: nonNil(d.Allow), Deny: nonNil(d.Deny)}
}

// formBool reads form field name as a boolean, def when absent.
func formBool(r *http.Request, name string, def bool) (bool, error) {
	if !r.Form.Has(name) {
		return def, nil
	}
	switch v := r.Form.Get(name); v {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	default:
		return false, fmt.Errorf("form field %s is %q: want true or false", name, v)
	}
}

// handleDCAdd adds a remote data center or replaces one of the same name
// (form fields name, meta: comma-separated host:port of its meta nodes'
// RPC, sync and pushRemote: true (default) or false, allow and deny:
// comma-separated patterns). Fields not sent take their defaults.
func (s *Server) handleDCAdd(w http.ResponseWriter, r *http.Request) {
	d := proto.RemoteDC{Name: strings.TrimSpace(r.Form.Get("name"))}
	d.MetaAddrs, _ = patterns(r, "meta")
	d.Allow, _ = patterns(r, "allow")
	d.Deny, _ = patterns(r, "deny")
	var err error
	if d.Sync, err = formBool(r, "sync", true); err == nil {
		d.PushRemote, err = formBool(r, "pushRemote", true)
	}
	if err == nil {
		err = s.checkRemoteDC(&d)
	}
	if err != nil {
		opshttp.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	var refusal error
	err = s.updateNodeConfig(r.Context(), func(c *nodeConfig) (string, []byte, bool) {
		dcs := slices.Clone(c.remoteDCs)
		i, found := slices.BinarySearchFunc(dcs, d.Name, func(x proto.RemoteDC, n string) int { return strings.Compare(x.Name, n) })
		if found {
			dcs[i] = d
		} else {
			if len(dcs) >= proto.MaxRemoteDCs {
				refusal = &aclError{http.StatusConflict, fmt.Sprintf("%d remote data centers exist, the limit", proto.MaxRemoteDCs)}
				return "", nil, false
			}
			dcs = slices.Insert(dcs, i, d)
		}
		if n := len((&proto.NodeHeartbeatReply{ConfigEpoch: 1, RemoteDCs: dcs}).AppendBody(nil)); n > maxRemoteDCBytes {
			refusal = &aclError{http.StatusConflict, fmt.Sprintf("the remote data centers would take %d bytes, over the limit of %d", n, maxRemoteDCBytes)}
			return "", nil, false
		}
		c.remoteDCs = dcs
		return dcPrefix + d.Name, encodeRemoteDC(&d), true
	})
	answerACL(w, err, refusal, map[string]any{"success": true, "dataCenter": remoteDCJSON(&d)})
}

// checkRemoteDC says why d may not be added: it is not valid, names this
// cluster, or a meta address is not host:port.
func (s *Server) checkRemoteDC(d *proto.RemoteDC) error {
	if d.Name == "" {
		return fmt.Errorf("form field name is required: the remote cluster's --datacenter")
	}
	if d.Name == s.cfg.DataCenter {
		return fmt.Errorf("data center %s is this cluster's own (--datacenter): a remote one must have another name", d.Name)
	}
	if len(d.MetaAddrs) == 0 {
		return fmt.Errorf("form field meta is required: the remote meta nodes' RPC addresses, host:port comma-separated")
	}
	for _, a := range d.MetaAddrs {
		host, port, err := net.SplitHostPort(a)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return fmt.Errorf("meta address %q is not host:port", a)
		}
	}
	return d.Validate()
}

// handleDCRemove removes the remote data center named by form field name;
// the data nodes drop what they imported from it.
func (s *Server) handleDCRemove(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.Form.Get("name"))
	if name == "" {
		opshttp.WriteError(w, http.StatusBadRequest, "form field name is required")
		return
	}
	var (
		refusal error
		removed proto.RemoteDC
	)
	err := s.updateNodeConfig(r.Context(), func(c *nodeConfig) (string, []byte, bool) {
		i, found := slices.BinarySearchFunc(c.remoteDCs, name, func(x proto.RemoteDC, n string) int { return strings.Compare(x.Name, n) })
		if !found {
			refusal = &aclError{http.StatusNotFound, "no remote data center " + name}
			return "", nil, false
		}
		removed = c.remoteDCs[i]
		c.remoteDCs = slices.Delete(slices.Clone(c.remoteDCs), i, i+1)
		return dcPrefix + name, nil, true
	})
	answerACL(w, err, refusal, map[string]any{"success": true, "dataCenter": remoteDCJSON(&removed)})
}

func (s *Server) handleDCList(w http.ResponseWriter, r *http.Request) {
	c, err := s.storedNodeConfig(r.Context())
	if err != nil {
		writeConfigError(w, err)
		return
	}
	out := DCListJSON{DataCenter: s.cfg.DataCenter, Remotes: make([]RemoteDCJSON, 0, len(c.remoteDCs))}
	for i := range c.remoteDCs {
		out.Remotes = append(out.Remotes, remoteDCJSON(&c.remoteDCs[i]))
	}
	opshttp.WriteJSON(w, http.StatusOK, out)
}

// DCNodeStatusJSON is one data node's import from one remote data center.
// Reported is false when the node answered but did not list the remote DC
// (it has not applied the config yet, or does not import).
type DCNodeStatusJSON struct {
	Node     string `json:"node"` // RPC address
	HTTPAddr string `json:"httpAddr"`
	Reported bool   `json:"reported"`
	proto.DCImportStatus
}

// DCStatusJSON is one remote data center of GET /api/dc/status: the
// aggregate over the data nodes and a row per node.
type DCStatusJSON struct {
	Name       string `json:"name"`
	Sync       bool   `json:"sync"`
	PushRemote bool   `json:"pushRemote"`
	// LinkUp: every live data node answered and reports a live stream for
	// every slot it leads.
	LinkUp         bool  `json:"linkUp"`
	SlotsLed       int   `json:"slotsLed"`
	SlotsImporting int   `json:"slotsImporting"`
	MaxLagMillis   int64 `json:"maxLagMillis"`
	MaxStaleMillis int64 `json:"maxStaleMillis"`
	Publishers     int64 `json:"publishers"`
	// OldestLastRepair is the earliest of the nodes' last repairs (RFC
	// 3339); empty when a node leading slots has none yet.
	OldestLastRepair string             `json:"oldestLastRepair,omitempty"`
	Nodes            []DCNodeStatusJSON `json:"nodes"`
}

// DCStatusAllJSON answers GET /api/dc/status.
type DCStatusAllJSON struct {
	DataCenter string         `json:"dataCenter"` // this cluster's
	DataNodes  int            `json:"dataNodes"`  // live data nodes asked
	Remotes    []DCStatusJSON `json:"remotes"`
	// Unreachable lists the data nodes that did not answer.
	Unreachable []catalog.NodeError `json:"unreachable"`
}

// handleDCStatus asks every live data node for its import status (GET
// /api/dc/status, see dcImportAnswer; bounded parallelism
// and timeout) and aggregates it per remote data center. Leader only: it
// knows the live nodes.
func (s *Server) handleDCStatus(w http.ResponseWriter, r *http.Request) {
	if s.notLeader(w) {
		return
	}
	c, err := s.storedNodeConfig(r.Context())
	if err != nil {
		writeConfigError(w, err)
		return
	}
	s.mu.Lock()
	nodes := s.reg.data
	s.mu.Unlock()
	byURL := make(map[string]proto.NodeInfo, len(nodes))
	urls := make([]string, 0, len(nodes))
	var unreachable []catalog.NodeError
	for _, n := range nodes {
		if n.HTTPAddr == "" {
			unreachable = append(unreachable, catalog.NodeError{Node: n.RPCAddr, Error: "the node has no HTTP address"})
			continue
		}
		u := "http://" + n.HTTPAddr
		byURL[u] = n
		urls = append(urls, u)
	}
	ctx, cancel := context.WithTimeout(r.Context(), dcStatusTimeout)
	defer cancel()
	var (
		mu      sync.Mutex
		answers = make(map[string][]proto.DCImportStatus, len(urls))
	)
	failed := s.catalog.Each(ctx, urls, func(ctx context.Context, u string) error {
		var list dcImportAnswer
		if err := s.catalog.Get(ctx, u+"/api/dc/status", &list); err != nil {
			return err
		}
		mu.Lock()
		answers[u] = list
		mu.Unlock()
		return nil
	})
	for _, f := range failed {
		n := byURL[f.Node]
		unreachable = append(unreachable, catalog.NodeError{Node: n.RPCAddr, Error: f.Error})
	}
	opshttp.WriteJSON(w, http.StatusOK, aggregateDCStatus(s.cfg.DataCenter, c.remoteDCs, nodes, byURL, answers, unreachable))
}

// aggregateDCStatus builds the answer of GET /api/dc/status from the data
// nodes' answers (by base URL).
func aggregateDCStatus(self string, dcs []proto.RemoteDC, nodes []proto.NodeInfo, byURL map[string]proto.NodeInfo,
	answers map[string][]proto.DCImportStatus, unreachable []catalog.NodeError) DCStatusAllJSON {
	out := DCStatusAllJSON{DataCenter: self, DataNodes: len(nodes), Remotes: make([]DCStatusJSON, 0, len(dcs)),
		Unreachable: nonNilErrors(unreachable)}
	slices.SortFunc(out.Unreachable, func(a, b catalog.NodeError) int { return cmp.Compare(a.Node, b.Node) })
	urls := make([]string, 0, len(answers))
	for u := range answers {
		urls = append(urls, u)
	}
	slices.SortFunc(urls, func(a, b string) int { return cmp.Compare(byURL[a].RPCAddr, byURL[b].RPCAddr) })
	for i := range dcs {
		d := &dcs[i]
		st := DCStatusJSON{Name: d.Name, Sync: d.Sync, PushRemote: d.PushRemote, Nodes: []DCNodeStatusJSON{}}
		st.LinkUp = len(unreachable) == 0 && len(urls) > 0
		var oldest time.Time
		neverRepaired := false
		for _, u := range urls {
			n := byURL[u]
			row := DCNodeStatusJSON{Node: n.RPCAddr, HTTPAddr: n.HTTPAddr}
			for _, is := range answers[u] {
				if is.Name == d.Name {
					row.Reported, row.DCImportStatus = true, is
					break
				}
			}
			row.Name = d.Name
			st.Nodes = append(st.Nodes, row)
			if !row.Reported {
				st.LinkUp = false
				continue
			}
			is := &row.DCImportStatus
			st.LinkUp = st.LinkUp && is.LinkUp
			st.SlotsLed += max(is.SlotsLed, 0)
			st.SlotsImporting += max(is.SlotsImporting, 0)
			st.MaxLagMillis = max(st.MaxLagMillis, is.LagMillis)
			st.MaxStaleMillis = max(st.MaxStaleMillis, is.StaleMillis)
			st.Publishers += max(is.Publishers, 0)
			if t, err := time.Parse(time.RFC3339Nano, is.LastRepair); err == nil {
				if oldest.IsZero() || t.Before(oldest) {
					oldest = t
				}
			} else if is.SlotsLed > 0 {
				neverRepaired = true
			}
		}
		if !oldest.IsZero() && !neverRepaired {
			st.OldestLastRepair = oldest.UTC().Format(time.RFC3339)
		}
		out.Remotes = append(out.Remotes, st)
	}
	return out
}

func nonNilErrors(e []catalog.NodeError) []catalog.NodeError {
	if e == nil {
		return []catalog.NodeError{}
	}
	return e
}
