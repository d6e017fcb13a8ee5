package session

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/metaclient"
	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
	"github.com/roster-registry/roster/push"
)

// adminRoutes registers the operator queries of docs/http-api.md: the node
// lists as this session's view of meta has them, client connections, and
// what one client IP publishes and subscribes to.
func (s *Server) adminRoutes() {
	metaclient.HandleNodeLists(s.http, s.cfg.MetaAddrs, func() (metaclient.View, bool) { return s.view(), true })
	s.http.HandleRead("GET /digest/connections/query", s.handleConnections)
	s.http.HandleRead("GET /digest/ip/query", s.handleIP)
}

// IPCountJSON counts the connections of one client IP and what they hold.
type IPCountJSON struct {
	ClientIP    string `json:"clientIp"`
	Connections int    `json:"connections"`
	Publishers  int    `json:"publishers"`
	Subscribers int    `json:"subscribers"`
}

// ConnectionsJSON is the answer of GET /digest/connections/query.
type ConnectionsJSON struct {
	Session     string        `json:"session"` // this session's client address
	Connections int           `json:"connections"`
	ByIP        []IPCountJSON `json:"byIp"` // by connections, descending
}

func (s *Server) handleConnections(w http.ResponseWriter, _ *http.Request) {
	byIP := map[string]*IPCountJSON{}
	n := 0
	s.rpc.Range(func(c *netio.Conn) bool {
		cc, ok := c.Value().(*clientConn)
		if !ok {
			return true
		}
		n++
		e := byIP[cc.ip]
		if e == nil {
			e = &IPCountJSON{ClientIP: cc.ip}
			byIP[cc.ip] = e
		}
		e.Connections++
		e.Publishers += cc.pubCount()
		e.Subscribers += s.push.ClientSubscriberCount(cc.sub)
		return true
	})
	out := ConnectionsJSON{Session: s.ClientAddr(), Connections: n, ByIP: make([]IPCountJSON, 0, len(byIP))}
	for _, e := range byIP {
		out.ByIP = append(out.ByIP, *e)
	}
	slices.SortFunc(out.ByIP, func(a, b IPCountJSON) int {
		return cmp.Or(cmp.Compare(b.Connections, a.Connections), cmp.Compare(a.ClientIP, b.ClientIP))
	})
	opshttp.WriteJSON(w, http.StatusOK, out)
}

// ConnJSON is one client connection of GET /digest/ip/query.
type ConnJSON struct {
	RemoteAddr  string `json:"remoteAddr"`
	ClientID    string `json:"clientId"`
	AppName     string `json:"appName"`
	Zone        string `json:"zone"`
	Publishers  int    `json:"publishers"`
	Subscribers int    `json:"subscribers"`
	Outbound    int    `json:"outbound"` // bytes queued to it
}

// IPPubJSON is a publisher of GET /digest/ip/query.
type IPPubJSON struct {
	DataInfoID string `json:"dataInfoId"`
	pubJSON
}

// IPSubJSON is a subscriber of GET /digest/ip/query.
type IPSubJSON struct {
	DataInfoID string `json:"dataInfoId"`
	subJSON
}

// IPJSON is the answer of GET /digest/ip/query.
type IPJSON struct {
	ClientIP    string      `json:"clientIp"`
	Connections []ConnJSON  `json:"connections"`
	Publishers  []IPPubJSON `json:"publishers"`
	Subscribers []IPSubJSON `json:"subscribers"`
}

// handleIP lists what the connections of one client IP hold.
func (s *Server) handleIP(w http.ResponseWriter, r *http.Request) {
	ip := r.URL.Query().Get("ip")
	if ip == "" {
		opshttp.WriteError(w, http.StatusBadRequest, "missing query parameter ip")
		return
	}
	out := IPJSON{ClientIP: ip, Connections: []ConnJSON{}, Publishers: []IPPubJSON{}, Subscribers: []IPSubJSON{}}
	var pubs []regKey
	var subs []push.SubscriberInfo
	s.rpc.Range(func(c *netio.Conn) bool {
		cc, ok := c.Value().(*clientConn)
		if !ok || cc.ip != ip {
			return true
		}
		cj := ConnJSON{RemoteAddr: c.RemoteAddr(), Outbound: c.Outbound()}
		if cc.handshaken.Load() {
			cj.ClientID, cj.AppName, cj.Zone = cc.clientID, cc.appName, cc.zone
		}
		held := cc.pubKeys()
		cj.Publishers = len(held)
		pubs = append(pubs, held...)
		keys := s.push.ClientSubscribers(cc.sub)
		cj.Subscribers = len(keys)
		subs = append(subs, keys...)
		out.Connections = append(out.Connections, cj)
		return true
	})
	s.reg.mu.RLock()
	for _, k := range pubs {
		if p, ok := s.reg.get(k); ok {
			pp := p.publisher(k.dataInfoID)
			out.Publishers = append(out.Publishers, IPPubJSON{DataInfoID: k.dataInfoID, pubJSON: toPubJSON(&pp)})
		}
	}
	s.reg.mu.RUnlock()
	for _, sub := range subs {
		out.Subscribers = append(out.Subscribers, IPSubJSON{DataInfoID: sub.DataInfoID, subJSON: toSubJSON(sub)})
	}
	slices.SortFunc(out.Connections, func(a, b ConnJSON) int { return cmp.Compare(a.RemoteAddr, b.RemoteAddr) })
	slices.SortFunc(out.Publishers, func(a, b IPPubJSON) int {
		return cmp.Or(cmp.Compare(a.DataInfoID, b.DataInfoID), cmp.Compare(a.RegisterID, b.RegisterID))
	})
	slices.SortFunc(out.Subscribers, func(a, b IPSubJSON) int {
		return cmp.Or(cmp.Compare(a.DataInfoID, b.DataInfoID), cmp.Compare(a.RegisterID, b.RegisterID))
	})
	opshttp.WriteJSON(w, http.StatusOK, out)
}

func toPubJSON(p *proto.Publisher) pubJSON {
	j := pubJSON{RegisterID: p.RegisterID, Data: p.Data, Zone: p.Zone, AppName: p.AppName,
		ClientIP: p.ClientIP, Version: p.Version, RegisterTimestamp: p.RegisterTimestamp}
	if j.Data == nil {
		j.Data = []string{}
	}
	if len(p.Attrs) > 0 {
		j.Attrs = make(map[string]string, len(p.Attrs))
		for _, a := range p.Attrs {
			j.Attrs[a.Key] = a.Value
		}
	}
	return j
}
