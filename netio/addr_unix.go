//go:build unix

package netio

import (
	"net/netip"
	"syscall"

	"github.com/panjf2000/gnet/v2"
)

// boundAddr reads the listener's address from a duplicate of its descriptor.
func boundAddr(eng gnet.Engine) (string, bool) {
	fd, err := eng.Dup()
	if err != nil {
		return "", false
	}
	defer syscall.Close(fd) //nolint:errcheck
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return "", false
	}
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String(), true
	case *syscall.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)).String(), true
	}
	return "", false
}
