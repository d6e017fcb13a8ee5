package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/roster-registry/roster/internal/certs"
	"github.com/roster-registry/roster/proto"
)

// server is a registry process started for one run.
type server struct {
	name      string
	cmd       *exec.Cmd
	endpoints []string // what loadgen connects to
	metrics   string   // the /metrics URL exporting the process's live heap ("" when none does)
	done      chan struct{}
	waitErr   error
}

// pid returns the server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// stop asks the server to exit and kills it when it does not within a while.
func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(20 * time.Second)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// exited reports whether the server died, and how.
func (s *server) exited() (bool, error) {
	select {
	case <-s.done:
		return true, s.waitErr
	default:
		return false, nil
	}
}

func start(name string, log io.Writer, bin string, args ...string) (*server, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start %s: %w", name, err)
	}
	s := &server{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	return s, nil
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("cannot find a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// startRoster starts `roster integrated` with its store under dir, every
// role on a fresh loopback port, and waits until the session serves. With
// useTLS the links between its roles are mutual TLS, with a CA and a
// certificate naming the three roles made in dir.
func startRoster(ctx context.Context, bin, dir string, log io.Writer, useTLS bool) (*server, error) {
	p, err := freePorts(6)
	if err != nil {
		return nil, err
	}
	args := []string{"integrated", "--data-dir", dir,
		"--session-addr", loopback(p[0]), "--session-http-addr", loopback(p[1]),
		"--meta-addr", loopback(p[2]), "--meta-http-addr", loopback(p[3]),
		"--data-addr", loopback(p[4]), "--data-http-addr", loopback(p[5])}
	if useTLS {
		tlsArgs, err := nodeCerts(filepath.Join(dir, "tls"), loopback(p[2]), loopback(p[4]), loopback(p[0]))
		if err != nil {
			return nil, err
		}
		args = append(args, tlsArgs...)
	}
	s, err := start("roster", log, bin, args...)
	if err != nil {
		return nil, err
	}
	s.endpoints = []string{loopback(p[0])}
	// In integrated, meta's port is the one exporting the process's go_* metrics.
	s.metrics = "http://" + loopback(p[3]) + "/metrics"
	if err := waitHealthy(ctx, s, "http://"+loopback(p[1])+"/health/check"); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// startEtcd starts a single-node etcd with its data under dir on fresh
// loopback ports and waits until it serves. The backend quota is raised
// from 2 GiB so a large scenario measures etcd, not its default quota.
func startEtcd(ctx context.Context, bin, dir string, log io.Writer) (*server, error) {
	p, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	client, peer := "http://"+loopback(p[0]), "http://"+loopback(p[1])
	s, err := start("etcd", log, bin, "--name", "bench", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "bench="+peer, "--initial-cluster-state", "new",
		"--quota-backend-bytes", strconv.FormatInt(8<<30, 10),
		"--logger", "zap", "--log-level", "warn")
	if err != nil {
		return nil, err
	}
	s.endpoints = []string{client}
	if err := waitHealthy(ctx, s, client+"/health"); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitHealthy polls url until it answers 200, the server exits or a minute passes.
func waitHealthy(ctx context.Context, s *server, url string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		if done, err := s.exited(); done {
			return fmt.Errorf("cannot start %s: exited: %v", s.name, err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("cannot check %s health: %w", s.name, err)
		}
		if resp, err := hc.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cannot start %s: not healthy at %s: %w", s.name, url, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ensureEtcd returns the etcd binary, installing Debian's etcd-server
// package when it is missing.
func ensureEtcd(ctx context.Context, path string, log io.Writer) (string, error) {
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if p, err := exec.LookPath("etcd"); err == nil {
		return p, nil
	}
	fmt.Fprintln(log, "etcd not found: installing Debian's etcd-server")
	for _, args := range [][]string{{"update"}, {"install", "-y", "etcd-server"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("cannot install etcd-server (apt-get %v): %w", args, err)
		}
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("cannot find etcd after installing etcd-server: %w", errors.Join(err, errNoEtcd))
	}
	return path, nil
}

// nodeCerts makes a CA and an integrated node's certificate (meta, data and
// session at their addresses) in dir and returns the flags that use them.
func nodeCerts(dir, metaAddr, dataAddr, sessionAddr string) ([]string, error) {
	ca, err := certs.NewCA("bench CA", 0)
	if err != nil {
		return nil, err
	}
	if err := ca.Write(dir); err != nil {
		return nil, err
	}
	certPEM, keyPEM, err := ca.NodesCert([]proto.Role{proto.RoleMeta, proto.RoleData, proto.RoleSession},
		[]string{metaAddr, dataAddr, sessionAddr}, 0)
	if err != nil {
		return nil, err
	}
	prefix := filepath.Join(dir, "node")
	if err := certs.WritePair(prefix, certPEM, keyPEM, false); err != nil {
		return nil, err
	}
	return []string{"--tls-ca", filepath.Join(dir, certs.CACertFile), "--tls-cert", prefix + ".crt", "--tls-key", prefix + ".key"}, nil
}
