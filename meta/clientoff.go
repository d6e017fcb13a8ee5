package meta

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/roster-registry/roster/internal/opshttp"
	"github.com/roster-registry/roster/proto"
)

const (
	// maxBadIPsShown bounds the malformed IPs named in a 400 answer.
	maxBadIPsShown = 10
	// MaxClientOff bounds the client-off list: every node receives it in
	// heartbeat replies, which must stay far below the frame limit (at
	// most ~40 bytes an IP: 400 KB), and every session checks it.
	MaxClientOff = proto.MaxClientOff
)

// clientOffRoutes registers SOFARegistry's client-off endpoints: the
// publishers of the listed client IPs disappear from every subscriber's
// list until the IPs are opened again; with subscribers (clientOffWithSub),
// the IPs' subscribers get no pushes either.
func (s *Server) clientOffRoutes() {
	s.http.HandleAdmin("POST /api/clientManager/clientOff", s.handleClientOff(true, false))
	s.http.HandleAdmin("POST /api/clientManager/clientOffWithSub", s.handleClientOff(true, true))
	s.http.HandleAdmin("POST /api/clientManager/clientOpen", s.handleClientOff(false, false))
	s.http.HandleRead("GET /api/clientManager/query", s.handleClientOffQuery)
	s.zoneOffRoutes()
}

// ClientOffResultJSON answers POST /api/clientManager/clientOff and clientOpen.
type ClientOffResultJSON = ListResultJSON

func (s *Server) handleClientOff(off, withSub bool) http.HandlerFunc {
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
		// The with-subscribers list stays within the client-off list: IPs
		// go on the client-off list first and come off it last. Open takes
		// them off both.
		var res ListResultJSON
		if off {
			res, err = s.changeClientOff(r.Context(), ips, true)
			if err == nil && withSub {
				_, err = s.changeOpsList(r.Context(), offWithSub, ips, true)
			}
		} else {
			_, err = s.changeOpsList(r.Context(), offWithSub, ips, false)
			if err == nil {
				res, err = s.changeClientOff(r.Context(), ips, false)
			}
		}
		writeListChange(w, res, err)
	}
}

// changeClientOff adds ips to the client-off list (or removes them), as
// leader.
func (s *Server) changeClientOff(ctx context.Context, ips []string, off bool) (ListResultJSON, error) {
	var res ListResultJSON
	var full error
	err := s.updateNodeConfig(ctx, func(c *nodeConfig) (string, []byte, bool) {
		list, ok := changeList(c.clientOff, ips, off, clientOffList, &res, &full)
		if !ok {
			return "", nil, false
		}
		c.setClientOff(list)
		return clientOffKey, []byte(strings.Join(list, "\n")), true
	})
	if err == nil {
		err = full
	}
	res.Success = err == nil
	return res, err
}

// clientOffList names the client-off list in a refusal.
var clientOffList = &opsList{name: "client-off", limit: MaxClientOff}

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
