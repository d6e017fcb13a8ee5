package proccluster

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/roster-registry/roster/internal/opshttp"
)

// DataCenterArgs are the per-role flags of a node of data center dc, with
// repair rounds short enough for tests and benches to wait seconds, and a
// short replay window: a slot rebuilt from the sessions (every slot of a
// data center just started) is exported to the others once it passed.
func DataCenterArgs(dc string) map[Role][]string {
	return map[Role][]string{
		RoleMeta:    {"--datacenter", dc},
		RoleData:    {"--datacenter", dc, "--follower-repair", "1s", "--session-sync", "3s", "--replay-window", "3s"},
		RoleSession: {"--datacenter", dc, "--version-scan", "2s"},
	}
}

// ShareCredentials gives the cluster to be started in dir remote's node
// credentials (its cluster secret, or its CA when it runs TLS): linked
// data centers share them, so call it before Start.
func ShareCredentials(dir string, remote *Cluster) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot share credentials: %w", err)
	}
	if ca := remote.CA(); ca != nil {
		if err := ca.Write(filepath.Join(dir, "tls", "ca")); err != nil {
			return fmt.Errorf("cannot share credentials: %w", err)
		}
		return nil
	}
	secret, err := os.ReadFile(remote.SecretFile())
	if err != nil {
		return fmt.Errorf("cannot share credentials: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cluster-secret"), secret, 0o600); err != nil {
		return fmt.Errorf("cannot share credentials: %w", err)
	}
	return nil
}

// LinkDataCenter links the data center of c to the one named name served
// by remote, as an operator does (roster ctl dc add, POST /api/dc/add at
// c's meta leader), with extra form fields (deny=, allow=, pushRemote=)
// and c's admin token ("" for none): the one step that configures a link.
func LinkDataCenter(ctx context.Context, c, remote *Cluster, name string, extra url.Values, token string) error {
	form := url.Values{"name": {name}, "meta": {strings.Join(remote.MetaRPCAddrs(), ",")}}
	for k, v := range extra {
		form[k] = v
	}
	leader, _, err := c.MetaLeader(ctx)
	if err != nil {
		return fmt.Errorf("cannot link %s: %w", name, err)
	}
	resp, err := opshttp.DoAdmin(ctx, http.MethodPost, leader.HTTPURL("/api/dc/add"), form, token)
	if err != nil {
		return fmt.Errorf("cannot link %s: %w", name, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cannot link %s: POST /api/dc/add on %s: status %d", name, leader.Name, resp.StatusCode)
	}
	return nil
}

// StartDataCenters starts one cluster per name, each a data center of that
// name with base's sizes and binary, its own SQLite meta store and logs in
// base.Dir/<name>, sharing the first one's credentials, and links every
// data center to every other. On error it kills what it started.
func StartDataCenters(ctx context.Context, base Options, names []string) ([]*Cluster, error) {
	clusters := make([]*Cluster, 0, len(names))
	fail := func(err error) ([]*Cluster, error) {
		for _, c := range clusters {
			c.Kill()
		}
		return nil, err
	}
	for i, name := range names {
		opts := base
		opts.Dir = filepath.Join(base.Dir, name)
		if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
			return fail(fmt.Errorf("cannot start data center %s: %w", name, err))
		}
		opts.StoreURL = "sqlite://" + filepath.Join(opts.Dir, "meta.db")
		opts.Args = DataCenterArgs(name)
		if i > 0 {
			if err := ShareCredentials(opts.Dir, clusters[0]); err != nil {
				return fail(err)
			}
		}
		c, err := Start(ctx, opts)
		if err != nil {
			return fail(fmt.Errorf("cannot start data center %s: %w", name, err))
		}
		clusters = append(clusters, c)
	}
	for i, c := range clusters {
		for j, remote := range clusters {
			if i != j {
				if err := LinkDataCenter(ctx, c, remote, names[j], nil, ""); err != nil {
					return fail(err)
				}
			}
		}
	}
	return clusters, nil
}
