package meta

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/internal/opshttp"
)

// clientOffRefused counts client-off requests refused for the list's bound.
var clientOffRefused = metrics.NewCounter("roster_meta_client_off_refused_total")

const (
	// maxBadIPsShown bounds the malformed IPs named in a 400 answer.
	maxBadIPsShown = 10
	// MaxClientOff bounds the client-off list: every node receives it in
	// heartbeat replies, which must stay far below the frame limit (at
	// most ~40 bytes an IP: 400 KB), and every session checks it.
	MaxClientOff = 10_000
)

// clientOffRoutes registers SOFARegistry's client-off endpoints: the
// publishers of the listed client IPs disappear from every subscriber's
// list until the IPs are opened again.
func (s *Server) clientOffRoutes() {
	s.http.HandleAdmin("POST /api/clientManager/clientOff", s.handleClientOff(true))
	s.http.HandleAdmin("POST /api/clientManager/clientOpen", s.handleClientOff(false))
	s.http.HandleRead("GET /api/clientManager/query", s.handleClientOffQuery)
}

// ClientOffResultJSON answers POST /api/clientManager/clientOff and clientOpen.
type ClientOffResultJSON struct {
	Success bool `json:"success"`
	Changed int  `json:"changed"` // IPs added to (or removed from) the list
	Total   int  `json:"total"`   // IPs on the list now
}

func (s *Server) handleClientOff(off bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			opshttp.WriteError(w, http.StatusBadRequest, "cannot parse the form: "+err.Error())
			return
		}
		ips, err := parseIPs(r.Form["ips"])
		if err != nil {
			opshttp.WriteError(w, http.StatusBadRequest, err.Error())
			return
		}
		var res ClientOffResultJSON
		full := false
		err = s.updateNodeConfig(r.Context(), func(c *nodeConfig) (string, []byte, bool) {
			set := make(map[string]struct{}, len(c.off)+len(ips))
			for ip := range c.off {
				set[ip] = struct{}{}
			}
			for _, ip := range ips {
				_, had := set[ip]
				switch {
				case off && !had:
					set[ip] = struct{}{}
					res.Changed++
				case !off && had:
					delete(set, ip)
					res.Changed++
				}
			}
			res.Total = len(set)
			if off && res.Total > MaxClientOff {
				full = true
				return "", nil, false
			}
			if res.Changed == 0 {
				return "", nil, false
			}
			list := sortedKeys(set)
			c.setClientOff(list)
			return clientOffKey, []byte(strings.Join(list, "\n")), true
		})
		if err != nil {
			writeConfigError(w, err)
			return
		}
		if full {
			clientOffRefused.Inc()
			opshttp.WriteError(w, http.StatusConflict, fmt.Sprintf(
				"the client-off list would hold %d IPs, limit %d: nothing changed (open some first)", res.Total, MaxClientOff))
			return
		}
		res.Success = true
		opshttp.WriteJSON(w, http.StatusOK, res)
	}
}

// handleClientOffQuery answers the client-off list as a JSON array.
func (s *Server) handleClientOffQuery(w http.ResponseWriter, r *http.Request) {
	c, err := s.storedNodeConfig(r.Context())
	if err != nil {
		writeConfigError(w, err)
		return
	}
	list := c.clientOff
	if list == nil {
		list = []string{}
	}
	opshttp.WriteJSON(w, http.StatusOK, list)
}

// limitedBroadcast is 255.255.255.255.
var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// clientAddr reports whether a can be the source address of a client: not
// scoped, unspecified, multicast or the broadcast address.
func clientAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.Zone() == "" && !a.IsUnspecified() && !a.IsMulticast() && a != limitedBroadcast
}

// parseIPs reads the comma-separated IPs of the ips form values, in
// canonical form (an IPv4-mapped IPv6 address as IPv4). It fails on a
// malformed one or one no client can have, or when there is none.
func parseIPs(values []string) ([]string, error) {
	var ips, bad []string
	for _, v := range values {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			a, err := netip.ParseAddr(f)
			if err != nil || !clientAddr(a) {
				bad = append(bad, f)
				continue
			}
			ips = append(ips, a.Unmap().String())
		}
	}
	if len(bad) > 0 {
		n := len(bad)
		if n > maxBadIPsShown {
			bad = bad[:maxBadIPsShown]
		}
		return nil, fmt.Errorf("%d malformed or non-client IP addresses in ips: %s", n, strings.Join(bad, ", "))
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("form field ips is required: a comma-separated list of IP addresses")
	}
	return ips, nil
}
