package proccluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/roster-registry/roster/internal/certs"
)

// Record is one process of a detached cluster, as nodes.json lists it.
type Record struct {
	Role     Role   `json:"role"`
	PID      int    `json:"pid"`
	RPCAddr  string `json:"rpcAddr"`
	HTTPAddr string `json:"httpAddr"`
}

// Records lists the running nodes of the cluster in start order.
func (c *Cluster) Records() []Record {
	var out []Record
	for _, n := range c.Nodes() {
		if n.Running() {
			out = append(out, Record{Role: n.Role, PID: n.PID(), RPCAddr: n.RPCAddr, HTTPAddr: n.HTTPAddr})
		}
	}
	return out
}

// WriteRecords writes recs to path as a JSON array, replacing the file at
// once so a reader never sees half of it.
func WriteRecords(path string, recs []Record) error {
	b, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode nodes: %w", err)
	}
	return certs.ReplaceFile(path, append(b, '\n'), 0o600)
}

// ReadRecords reads a file written by WriteRecords.
func ReadRecords(path string) ([]Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read nodes: %w", err)
	}
	var recs []Record
	if err := json.Unmarshal(b, &recs); err != nil {
		return nil, fmt.Errorf("cannot decode %s: %w", path, err)
	}
	return recs, nil
}

// Alive reports whether the recorded process still runs and is the one
// recorded: a roster process with the recorded address on its command line,
// not another process that got the same pid since.
func (r Record) Alive() bool {
	if r.PID <= 0 || syscall.Kill(r.PID, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(r.PID) + "/cmdline")
	if err != nil {
		// No procfs: trust the pid.
		return true
	}
	args := strings.Split(string(b), "\x00")
	return len(args) > 1 && args[1] == string(r.Role) && strings.Contains(string(b), r.RPCAddr)
}

// StopRecords stops the recorded processes in reverse order of start with
// SIGTERM, waiting for each role to exit before the next (sessions, then
// data, then meta), and kills what of a role still runs after grace.
func StopRecords(recs []Record, grace time.Duration, logf func(string, ...any)) error {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	var errs []error
	for _, role := range []Role{RoleSession, RoleData, RoleMeta} {
		var mine []Record
		for _, r := range recs {
			if r.Role == role && r.Alive() {
				mine = append(mine, r)
			}
		}
		for _, r := range mine {
			logf("stopping %s pid %d (%s)", r.Role, r.PID, r.RPCAddr)
			if err := syscall.Kill(r.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
				errs = append(errs, fmt.Errorf("cannot stop %s pid %d: %w", r.Role, r.PID, err))
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		err := Poll(ctx, 50*time.Millisecond, string(role)+" nodes to exit", func(context.Context) (bool, error) {
			for _, r := range mine {
				if r.Alive() {
					return false, nil
				}
			}
			return true, nil
		})
		cancel()
		if err != nil {
			for _, r := range mine {
				if r.Alive() {
					logf("killing %s pid %d: it did not exit", r.Role, r.PID)
					_ = syscall.Kill(r.PID, syscall.SIGKILL)
				}
			}
		}
	}
	return errors.Join(errs...)
}
