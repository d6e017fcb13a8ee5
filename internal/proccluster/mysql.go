package proccluster

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"time"

	"github.com/go-sql-driver/mysql"
)

// DefaultMySQLDSN is the MariaDB server the tests and cluster-up use when
// ROSTER_TEST_MYSQL_DSN (or the --mysql flag) names no other.
const DefaultMySQLDSN = "root@tcp(127.0.0.1:3306)/"

// MySQLServer is a MySQL or MariaDB server the cluster keeps its meta store
// on, one database per cluster.
type MySQLServer struct {
	cfg *mysql.Config
}

// ParseMySQLServer parses a go-sql-driver DSN; its database name, if any,
// is ignored.
func ParseMySQLServer(dsn string) (*MySQLServer, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("cannot parse MySQL DSN %q: %w", dsn, err)
	}
	cfg.DBName = ""
	cfg.Timeout = 2 * time.Second
	return &MySQLServer{cfg: cfg}, nil
}

// Addr is the server's address.
func (m *MySQLServer) Addr() string { return m.cfg.Addr }

func (m *MySQLServer) open() (*sql.DB, error) {
	conn, err := mysql.NewConnector(m.cfg.Clone())
	if err != nil {
		return nil, fmt.Errorf("cannot configure MySQL connector: %w", err)
	}
	return sql.OpenDB(conn), nil
}

// Ping checks that the server answers.
func (m *MySQLServer) Ping(ctx context.Context) error {
	db, err := m.open()
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("cannot reach MySQL at %s: %w", m.cfg.Addr, err)
	}
	return nil
}

var dbName = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// exec runs one statement on a database name checked against dbName, so it
// can be spliced into DDL that takes no placeholders.
func (m *MySQLServer) exec(ctx context.Context, stmt, name string) error {
	if !dbName.MatchString(name) {
		return fmt.Errorf("cannot use database name %q: %w", name, ErrDatabaseName)
	}
	db, err := m.open()
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, stmt+" "+name); err != nil {
		return fmt.Errorf("cannot run %s %s on %s: %w", stmt, name, m.cfg.Addr, err)
	}
	return nil
}

// CreateDatabase creates database name if it does not exist.
func (m *MySQLServer) CreateDatabase(ctx context.Context, name string) error {
	return m.exec(ctx, "CREATE DATABASE IF NOT EXISTS", name)
}

// DropDatabase drops database name if it exists.
func (m *MySQLServer) DropDatabase(ctx context.Context, name string) error {
	return m.exec(ctx, "DROP DATABASE IF EXISTS", name)
}

// StoreURL is the roster --store URL of database name on this server.
func (m *MySQLServer) StoreURL(name string) string {
	cfg := m.cfg.Clone()
	cfg.DBName = name
	// The roster store applies its own timeouts; the harness's is for itself.
	cfg.Timeout = 0
	return "mysql://" + cfg.FormatDSN()
}
