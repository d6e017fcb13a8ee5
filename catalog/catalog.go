// Package catalog is the registry's service catalog: which dataInfoIds
// exist and how many publishers and subscribers each has. Sessions hold
// every registration of their clients, so each session answers for its own
// (GET /digest/services/query) and the meta leader merges the answers of
// every session into pages (GET /api/catalog/services); a service's
// publishers come from its slot's leader and its subscribers from every
// session (GET /api/catalog/service). This package holds the wire types,
// the bounded selection of a page and the merge; the roles serve them.
package catalog

import (
	"cmp"
	"container/heap"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

const (
	// DefaultLimit is the page size when a query gives none.
	DefaultLimit = 100
	// MaxLimit bounds a page: each session sends up to this many entries.
	MaxLimit = 1000
	// MaxIDBytes bounds a prefix, a cursor and a dataInfoId in a query.
	MaxIDBytes = 1024
)

// Service is one dataInfoId of a page.
type Service struct {
	DataInfoID  string `json:"dataInfoId"`
	Publishers  int    `json:"publishers"`
	Subscribers int    `json:"subscribers"`
}

// Page is an answer of GET /digest/services/query (one session) or GET
// /api/catalog/services (every session, merged).
type Page struct {
	Services []Service `json:"services"`
	// More is true when services after the last one match; ask again with
	// after set to Next.
	More bool   `json:"more"`
	Next string `json:"next,omitempty"`
	// Sessions is how many sessions answered (merged pages only).
	Sessions int `json:"sessions,omitempty"`
	// Failed lists the nodes that did not answer: their registrations are
	// missing from the counts.
	Failed []NodeError `json:"failed,omitempty"`
}

// NodeError is a node that could not answer a fan-out.
type NodeError struct {
	Node  string `json:"node"`
	Error string `json:"error"`
}

// Query selects a page: dataInfoIds starting with Prefix, after After
// (byte-wise order), at most Limit of them.
type Query struct {
	Prefix, After string
	Limit         int
}

// ParseQuery reads prefix, after and limit from v, refusing what is out of
// range with a message that names the parameter and its bound.
func ParseQuery(v url.Values) (Query, error) {
	q := Query{Prefix: v.Get("prefix"), After: v.Get("after"), Limit: DefaultLimit}
	if len(q.Prefix) > MaxIDBytes || len(q.After) > MaxIDBytes {
		return q, fmt.Errorf("%w: prefix and after may hold at most %d bytes", ErrBadQuery, MaxIDBytes)
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return q, fmt.Errorf("%w: limit %q: want 1 to %d", ErrBadQuery, s, MaxLimit)
		}
		q.Limit = n
	}
	return q, nil
}

// Values encodes q for a request.
func (q Query) Values() url.Values {
	v := url.Values{"limit": {strconv.Itoa(q.Limit)}}
	if q.Prefix != "" {
		v.Set("prefix", q.Prefix)
	}
	if q.After != "" {
		v.Set("after", q.After)
	}
	return v
}

// Matches reports whether id belongs to the pages of q.
func (q Query) Matches(id string) bool { return id > q.After && strings.HasPrefix(id, q.Prefix) }

// Selector keeps the Limit+1 smallest matching ids it is offered (the one
// past the limit tells whether there are more), in O(Limit) memory whatever
// it is offered.
type Selector struct {
	q    Query
	ids  maxHeap
	seen map[string]struct{}
}

// NewSelector returns a Selector for q.
func NewSelector(q Query) *Selector {
	return &Selector{q: q, seen: make(map[string]struct{}, q.Limit+1)}
}

// Offer considers id. The Selector keeps id itself: pass a string that
// outlives the call (not one aliasing a reused buffer).
func (s *Selector) Offer(id string) {
	if !s.q.Matches(id) {
		return
	}
	if _, dup := s.seen[id]; dup {
		return
	}
	if len(s.ids) <= s.q.Limit {
		heap.Push(&s.ids, id)
		s.seen[id] = struct{}{}
		return
	}
	if id < s.ids[0] {
		delete(s.seen, s.ids[0])
		s.ids[0] = id
		s.seen[id] = struct{}{}
		heap.Fix(&s.ids, 0)
	}
}

// IDs returns the selected ids in order, at most Limit, and whether more matched.
func (s *Selector) IDs() (ids []string, more bool) {
	ids = slices.Clone([]string(s.ids))
	slices.Sort(ids)
	if len(ids) > s.q.Limit {
		return ids[:s.q.Limit], true
	}
	return ids, false
}

type maxHeap []string

func (h maxHeap) Len() int           { return len(h) }
func (h maxHeap) Less(i, j int) bool { return h[i] > h[j] }
func (h maxHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *maxHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *maxHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Merge sums the counts of the same dataInfoId over the pages of every
// session (each answered q) and returns the first q.Limit. Each session
// sent its own first q.Limit matches, so every id of the merged first
// q.Limit was sent by every session that holds it: the counts are whole.
func Merge(q Query, pages []Page) Page {
	sum := map[string]*Service{}
	more := false
	for _, p := range pages {
		more = more || p.More
		for _, s := range p.Services {
			if !q.Matches(s.DataInfoID) {
				continue // a node that ignored the query: not trusted to count
			}
			t := sum[s.DataInfoID]
			if t == nil {
				t = &Service{DataInfoID: s.DataInfoID}
				sum[s.DataInfoID] = t
			}
			t.Publishers = addCount(t.Publishers, s.Publishers)
			t.Subscribers = addCount(t.Subscribers, s.Subscribers)
		}
	}
	out := Page{Services: make([]Service, 0, min(len(sum), q.Limit)), Sessions: len(pages)}
	for _, s := range sum {
		out.Services = append(out.Services, *s)
	}
	slices.SortFunc(out.Services, func(a, b Service) int { return cmp.Compare(a.DataInfoID, b.DataInfoID) })
	if len(out.Services) > q.Limit {
		out.Services, more = out.Services[:q.Limit], true
	}
	out.More = more
	if more && len(out.Services) > 0 {
		out.Next = out.Services[len(out.Services)-1].DataInfoID
	}
	return out
}

// addCount adds a node's count, ignoring a negative one and saturating.
func addCount(a, b int) int {
	if b < 0 {
		return a
	}
	if a > int(^uint(0)>>1)-b {
		return int(^uint(0) >> 1)
	}
	return a + b
}

// Publisher is a publisher of a service, as its slot's leader holds it.
type Publisher struct {
	RegisterID        string            `json:"registerId"`
	Data              []string          `json:"data"`
	Zone              string            `json:"zone"`
	AppName           string            `json:"appName"`
	ClientIP          string            `json:"clientIp"`
	Version           uint64            `json:"version"`
	RegisterTimestamp int64             `json:"registerTimestamp"`
	Attrs             map[string]string `json:"attrs,omitempty"`
}

// Subscriber is a subscriber of a service on one session.
type Subscriber struct {
	Session       string `json:"session,omitempty"` // the session's client address (merged answers)
	RegisterID    string `json:"registerId"`
	Zone          string `json:"zone"`
	Scope         string `json:"scope"`
	ClientIP      string `json:"clientIp"`
	AppName       string `json:"appName"`
	PushedVersion uint64 `json:"pushedVersion"` // the newest version the client acknowledged
}

// Detail is the answer of GET /api/catalog/service: one service's
// publishers (from its slot's leader) and subscribers (from every session).
type Detail struct {
	DataInfoID  string       `json:"dataInfoId"`
	Slot        uint32       `json:"slot"`
	Leader      string       `json:"leader"` // the slot leader's RPC address; "" when it has none
	Version     uint64       `json:"version"`
	Publishers  []Publisher  `json:"publishers"`
	Subscribers []Subscriber `json:"subscribers"`
	Sessions    int          `json:"sessions"`
	Failed      []NodeError  `json:"failed,omitempty"`
}

// Node is a data or session node with its health, as GET
// /api/catalog/nodes shows it.
type Node struct {
	ID       string `json:"id"`
	Role     string `json:"role"`
	RPCAddr  string `json:"rpcAddr"`
	HTTPAddr string `json:"httpAddr"`
	Healthy  bool   `json:"healthy"`
	// Health is the node's own /health/check detail; absent when it did not answer.
	Health map[string]any `json:"health,omitempty"`
	Error  string         `json:"error,omitempty"`
}
