package proccluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Role names a roster role, as the roster command spells it.
type Role string

// The roles a cluster runs.
const (
	RoleMeta    Role = "meta"
	RoleData    Role = "data"
	RoleSession Role = "session"
)

// Node is one roster process of a cluster. Its addresses never change, so a
// restarted node is the same node to its peers.
type Node struct {
	*Process
	Role     Role
	RPCAddr  string // meta and data RPC, or the session's client address
	HTTPAddr string
}

// HTTPURL returns the URL of path on the node's HTTP server.
func (n *Node) HTTPURL(path string) string { return "http://" + n.HTTPAddr + path }

// addrFlags are the flags that give a role its two addresses.
func addrFlags(role Role, rpc, http string) []string {
	switch role {
	case RoleMeta:
		return []string{"--meta-addr", rpc, "--meta-http-addr", http}
	case RoleData:
		return []string{"--data-addr", rpc, "--data-http-addr", http}
	default:
		return []string{"--session-addr", rpc, "--session-http-addr", http}
	}
}

// errBind marks a start that failed because a port was taken.
type errBind struct{ tail string }

func (e *errBind) Error() string { return "address already in use: " + e.tail }

// waitServing waits until the node's HTTP server answers, whatever the
// status: the process has parsed its flags and bound its ports. It fails at
// once when the process exits, with errBind when a port was taken.
func (n *Node) waitServing(ctx context.Context) error {
	exited := n.Exited()
	hc := &http.Client{Timeout: time.Second}
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-exited:
			tail := n.LogTail(20)
			if strings.Contains(tail, "address already in use") {
				return &errBind{tail: tail}
			}
			return fmt.Errorf("cannot start %s: it exited (%v); log %s:\n%s", n.Name, n.ExitErr(), n.LogPath, tail)
		case <-ctx.Done():
			return fmt.Errorf("cannot start %s: no answer on http://%s: %w; log %s:\n%s", n.Name, n.HTTPAddr, ctx.Err(), n.LogPath, n.LogTail(20))
		case <-t.C:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.HTTPURL("/health/check"), nil)
		if err != nil {
			return fmt.Errorf("cannot build health request: %w", err)
		}
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
	}
}

// Restart kills the node if it runs and starts it again on the same
// addresses, retrying while a port is still held (TIME_WAIT, or a killed
// process the kernel has not cleaned up yet) until ctx ends.
func (n *Node) Restart(ctx context.Context) error {
	if err := n.Kill(); err != nil {
		return err
	}
	for {
		if err := n.Start(); err != nil {
			return err
		}
		err := n.waitServing(ctx)
		if err == nil {
			return nil
		}
		var be *errBind
		if !errors.As(err, &be) || ctx.Err() != nil {
			_ = n.Kill()
			return fmt.Errorf("cannot restart %s: %w", n.Name, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cannot restart %s: %w", n.Name, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
