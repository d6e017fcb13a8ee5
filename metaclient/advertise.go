package metaclient

import (
	"net"
	"net/netip"
)

// Advertise returns the address peers should dial to reach a listener bound
// at bound (host:port). A bound host that names no single interface
// (0.0.0.0, ::, empty) is replaced by the first global unicast IPv4 address
// of this machine, or 127.0.0.1 when there is none; any other address is
// returned unchanged. Nodes are named by this address in the slot table and
// in leader hints, so it must be the one others can use.
func Advertise(bound string) string {
	host, port, err := net.SplitHostPort(bound)
	if err != nil {
		return bound
	}
	if host != "" {
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.IsUnspecified() {
			return bound
		}
	}
	return net.JoinHostPort(localIP(), port)
}

// AdvertiseOn is Advertise with the host peers reach this machine at, when
// the operator named one (--advertise-addr: a pod IP, a DNS name, a
// NAT-ed address): the bound port with that host. Without a host it is
// Advertise.
func AdvertiseOn(host, bound string) string {
	if host == "" {
		return Advertise(bound)
	}
	_, port, err := net.SplitHostPort(bound)
	if err != nil {
		return bound
	}
	return net.JoinHostPort(host, port)
}

func localIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "127.0.0.1"
	}
	for _, a := range addrs {
		p, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		if ip, ok := netip.AddrFromSlice(p.IP); ok {
			ip = ip.Unmap()
			if ip.Is4() && ip.IsGlobalUnicast() {
				return ip.String()
			}
		}
	}
	return "127.0.0.1"
}
