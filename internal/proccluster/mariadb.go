package proccluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// MariaDB is a private MariaDB server with its own data directory and port,
// for tests that stop the database without disturbing the shared one.
type MariaDB struct {
	*Process
	Dir  string // holds data/, the socket and the log
	Port int
	srv  *MySQLServer
}

// lookTool finds an installed MariaDB program, also in the sbin directories
// a non-root PATH leaves out.
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("cannot find %s: %w", name, ErrNoMariaDB)
}

// mariadbFlags keep a throwaway server small and quick to start.
var mariadbFlags = []string{
	"--innodb-buffer-pool-size=32M",
	"--innodb-log-file-size=16M",
	"--performance-schema=OFF",
	"--skip-name-resolve",
	"--skip-log-bin",
}

// StartMariaDB initialises a data directory under dir, starts mariadbd on a
// free loopback port with root and no password, and waits until it answers.
func StartMariaDB(ctx context.Context, dir string) (*MariaDB, error) {
	server, err := lookTool("mariadbd")
	if err != nil {
		return nil, err
	}
	install, err := lookTool("mariadb-install-db")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	args := []string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal", "--skip-test-db"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	out, err := exec.CommandContext(ctx, install, append(args, mariadbFlags...)...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("cannot initialise MariaDB data directory %s: %w\n%s", data, err, out)
	}
	m := &MariaDB{Dir: dir}
	for attempt := 1; ; attempt++ {
		addr, err := FreeAddr("127.0.0.1")
		if err != nil {
			return nil, err
		}
		_, port, _ := splitPort(addr)
		m.Port = port
		m.Process = &Process{Name: "mariadbd", Path: server, Args: m.serverArgs(data), LogPath: filepath.Join(dir, "mariadbd.log")}
		if m.srv, err = ParseMySQLServer(m.DSN()); err != nil {
			return nil, err
		}
		if err = m.Start(ctx); err == nil {
			return m, nil
		}
		if attempt == startAttempts {
			return nil, err
		}
	}
}

func splitPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	return host, port, err
}

func (m *MariaDB) serverArgs(data string) []string {
	args := []string{"--no-defaults", "--datadir=" + data, "--port=" + strconv.Itoa(m.Port),
		"--bind-address=127.0.0.1", "--socket=" + filepath.Join(m.Dir, "mariadbd.sock"),
		"--pid-file=" + filepath.Join(m.Dir, "mariadbd.pid")}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	return append(args, mariadbFlags...)
}

// DSN is the go-sql-driver DSN of the server, without a database.
func (m *MariaDB) DSN() string { return fmt.Sprintf("root@tcp(127.0.0.1:%d)/", m.Port) }

// Server is the server as a MySQLServer, for databases and store URLs.
func (m *MariaDB) Server() *MySQLServer { return m.srv }

// Start starts mariadbd (again, after Kill) on the same port and data
// directory, and waits until it answers queries.
func (m *MariaDB) Start(ctx context.Context) error {
	if err := m.Process.Start(); err != nil {
		return err
	}
	err := Poll(ctx, 50*time.Millisecond, "MariaDB to answer", func(ctx context.Context) (bool, error) {
		select {
		case <-m.Exited():
			return false, Abort(fmt.Errorf("mariadbd exited (%v); log %s:\n%s", m.ExitErr(), m.LogPath, m.LogTail(20)))
		default:
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		err := m.srv.Ping(pctx)
		return err == nil, err
	})
	if err != nil {
		_ = m.Kill()
		return fmt.Errorf("cannot start MariaDB on port %d: %w", m.Port, err)
	}
	return nil
}
