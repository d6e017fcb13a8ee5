package proccluster

import (
	"fmt"
	"net"
)

// FreeAddr returns a loopback address whose port was free a moment ago. The
// port is released before returning, so another process may take it first:
// callers retry with a new address when the bind fails.
func FreeAddr(host string) (string, error) {
	if host == "" {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("cannot find a free port on %s: %w", host, err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("cannot release port %s: %w", addr, err)
	}
	return addr, nil
}
