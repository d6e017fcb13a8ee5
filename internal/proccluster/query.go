package proccluster

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The JSON answers of the roles' HTTP endpoints, as far as the harness
// reads them. They are declared here rather than imported, so the harness
// checks the HTTP contract rather than a Go type.

// LeaderInfo is GET /meta/leader/query.
type LeaderInfo struct {
	Leader    string    `json:"leader"`
	Epoch     uint64    `json:"epoch"`
	IsLeader  bool      `json:"isLeader"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Slot is one slot of GET /openapi/v1/slot/table/content.
type Slot struct {
	ID          uint32   `json:"id"`
	Leader      string   `json:"leader"`
	LeaderEpoch uint64   `json:"leaderEpoch"`
	Followers   []string `json:"followers"`
}

// NodeInfo is a node as meta lists it.
type NodeInfo struct {
	ID       string `json:"id"`
	RPCAddr  string `json:"rpcAddr"`
	HTTPAddr string `json:"httpAddr"`
}

// SlotTable is GET /openapi/v1/slot/table/content.
type SlotTable struct {
	Epoch     uint64     `json:"epoch"`
	Slots     []Slot     `json:"slots"`
	DataNodes []NodeInfo `json:"dataNodes"`
}

// Led reports whether the table has slots and every one has a leader.
func (t *SlotTable) Led() bool {
	if t == nil || len(t.Slots) == 0 {
		return false
	}
	for _, s := range t.Slots {
		if s.Leader == "" {
			return false
		}
	}
	return true
}

// slot returns the slot with id.
func (t *SlotTable) slot(id uint32) (Slot, bool) {
	if int(id) < len(t.Slots) && t.Slots[id].ID == id {
		return t.Slots[id], true
	}
	for _, s := range t.Slots {
		if s.ID == id {
			return s, true
		}
	}
	return Slot{}, false
}

// LeaderCounts maps each data node's RPC address to the slots it leads.
func (t *SlotTable) LeaderCounts() map[string]int {
	out := make(map[string]int)
	for _, s := range t.Slots {
		if s.Leader != "" {
			out[s.Leader]++
		}
	}
	return out
}

// FollowerCounts maps each data node's RPC address to the slots it follows.
func (t *SlotTable) FollowerCounts() map[string]int {
	out := make(map[string]int)
	for _, s := range t.Slots {
		for _, f := range s.Followers {
			out[f]++
		}
	}
	return out
}

// Names reports whether addr leads or follows any slot.
func (t *SlotTable) Names(addr string) bool {
	for _, s := range t.Slots {
		if s.Leader == addr {
			return true
		}
		for _, f := range s.Followers {
			if f == addr {
				return true
			}
		}
	}
	return false
}

// Health is GET /health/check.
type Health struct {
	Healthy bool           `json:"healthy"`
	Detail  map[string]any `json:"detail"`
}

// Number returns a numeric detail, 0 when absent.
func (h Health) Number(key string) float64 {
	f, _ := h.Detail[key].(float64)
	return f
}

var httpClient = &http.Client{Timeout: 2 * time.Second}

// GetJSON decodes the JSON answer of GET url into out. Any status is
// accepted (health answers 503 with a body); the status is returned.
func GetJSON(ctx context.Context, url string, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("cannot build request for %s: %w", url, err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("cannot get %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("cannot read %s: %w", url, err)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return resp.StatusCode, fmt.Errorf("cannot decode %s (status %d): %w", url, resp.StatusCode, err)
	}
	return resp.StatusCode, nil
}

// Metric returns the value of a metric without labels from the node's
// /metrics, and whether the node exports it.
func (n *Node) Metric(ctx context.Context, name string) (float64, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.HTTPURL("/metrics"), nil)
	if err != nil {
		return 0, false, fmt.Errorf("cannot build metrics request: %w", err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, false, fmt.Errorf("cannot get metrics of %s: %w", n.Name, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), name+" ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, true, fmt.Errorf("cannot parse metric %s of %s: %w", name, n.Name, err)
		}
		return f, true, nil
	}
	if err := sc.Err(); err != nil {
		return 0, false, fmt.Errorf("cannot read metrics of %s: %w", n.Name, err)
	}
	return 0, false, nil
}

// GetHealth returns a node's health.
func (n *Node) GetHealth(ctx context.Context) (Health, error) {
	var h Health
	_, err := GetJSON(ctx, n.HTTPURL("/health/check"), &h)
	return h, err
}

// MetaLeader returns the meta node that says it leads. Paused nodes are
// not asked: they cannot answer.
func (c *Cluster) MetaLeader(ctx context.Context) (*Node, LeaderInfo, error) {
	var errs []error
	for _, n := range c.Running(RoleMeta) {
		if n.Paused() {
			continue
		}
		var li LeaderInfo
		if _, err := GetJSON(ctx, n.HTTPURL("/meta/leader/query"), &li); err != nil {
			errs = append(errs, err)
			continue
		}
		if li.IsLeader {
			return n, li, nil
		}
	}
	errs = append(errs, ErrNoLeader)
	return nil, LeaderInfo{}, fmt.Errorf("cannot find the meta leader: %w", errors.Join(errs...))
}

// SlotTable returns the slot table of the meta leader.
func (c *Cluster) SlotTable(ctx context.Context) (*SlotTable, error) {
	var t SlotTable
	if _, err := c.fromMetaLeader(ctx, "/openapi/v1/slot/table/content", &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// DataByAddr returns the data node with RPC address addr, or nil.
func (c *Cluster) DataByAddr(addr string) *Node {
	for _, n := range c.Datas() {
		if n.RPCAddr == addr {
			return n
		}
	}
	return nil
}

// DataLeadingMost returns the running data node that leads the most slots
// in the meta leader's table, and that table.
func (c *Cluster) DataLeadingMost(ctx context.Context) (*Node, *SlotTable, error) {
	t, err := c.SlotTable(ctx)
	if err != nil {
		return nil, nil, err
	}
	var best *Node
	most := -1
	counts := t.LeaderCounts()
	for _, n := range c.Running(RoleData) {
		if counts[n.RPCAddr] > most {
			best, most = n, counts[n.RPCAddr]
		}
	}
	if best == nil {
		return nil, nil, fmt.Errorf("cannot find a data node leading slots: none runs")
	}
	return best, t, nil
}

// Ready checks once that every slot of the meta leader's table is led by a
// running data node, that every running data node leads or follows a slot,
// and that every running data and session node is healthy and holds that
// table's epoch or a newer one. The error says what is not ready yet.
func (c *Cluster) Ready(ctx context.Context) (*SlotTable, error) {
	t, err := c.SlotTable(ctx)
	if err != nil {
		return nil, err
	}
	if !t.Led() {
		return t, fmt.Errorf("slot table epoch %d: not every slot has a leader", t.Epoch)
	}
	for _, s := range t.Slots {
		if n := c.DataByAddr(s.Leader); n == nil || !n.Running() {
			return t, fmt.Errorf("slot %d is led by %s, which does not run", s.ID, s.Leader)
		}
	}
	for _, n := range c.Running(RoleData) {
		if !n.Paused() && !t.Names(n.RPCAddr) {
			return t, fmt.Errorf("slot table epoch %d gives %s no slot", t.Epoch, n.Name)
		}
	}
	for _, role := range []Role{RoleData, RoleSession} {
		for _, n := range c.Running(role) {
			if n.Paused() {
				continue
			}
			h, err := n.GetHealth(ctx)
			if err != nil {
				return t, err
			}
			if !h.Healthy || uint64(h.Number("slotTableEpoch")) < t.Epoch {
				return t, fmt.Errorf("%s is not ready: %v (table epoch %d)", n.Name, h.Detail, t.Epoch)
			}
		}
	}
	return t, nil
}

// WaitReady polls Ready until it holds or ctx ends.
func (c *Cluster) WaitReady(ctx context.Context) (*SlotTable, error) {
	var t *SlotTable
	err := Poll(ctx, 100*time.Millisecond, "a ready cluster", func(ctx context.Context) (bool, error) {
		var err error
		t, err = c.Ready(ctx)
		return err == nil, err
	})
	return t, err
}
