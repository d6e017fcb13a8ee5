package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// backend opens handles on one fresh database of one backend, like several
// meta nodes sharing it.
type backend struct {
	name string
	// openErr opens another handle; the caller closes it.
	openErr func() (Store, error)
}

// open opens another handle, closed when the test ends.
func (b backend) open(t *testing.T) Store {
	t.Helper()
	s, err := b.openErr()
	if err != nil {
		t.Fatalf("cannot open %s store: %s", b.name, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// forEachBackend runs f against a fresh database of every backend.
func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "var", "meta.db")
		f(t, backend{name: "sqlite", openErr: func() (Store, error) { return OpenSQLite(path) }})
	})
	t.Run("mysql", func(t *testing.T) {
		t.Parallel()
		dsn := mysqlDatabase(t, true)
		f(t, backend{name: "mysql", openErr: func() (Store, error) { return OpenMySQL(dsn) }})
	})
}

// mysqlServer returns the DSN of the test server (no database), skipping the
// test when it is unreachable outside CI.
func mysqlServer(t *testing.T) *mysql.Config {
	t.Helper()
	dsn := os.Getenv("ROSTER_TEST_MYSQL_DSN")
	if dsn == "" {
		dsn = "root@tcp(127.0.0.1:3306)/"
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("cannot parse ROSTER_TEST_MYSQL_DSN: %s", err)
	}
	cfg.Timeout = 2 * time.Second
	db := openServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("MariaDB at %s is unreachable: %s", cfg.Addr, err)
		}
		t.Skipf("skipping: MariaDB at %s is unreachable (%s); set ROSTER_TEST_MYSQL_DSN", cfg.Addr, err)
	}
	return cfg
}

func openServer(t *testing.T, cfg *mysql.Config) *sql.DB {
	t.Helper()
	c := cfg.Clone()
	c.DBName = ""
	conn, err := mysql.NewConnector(c)
	if err != nil {
		t.Fatalf("cannot configure MySQL connector: %s", err)
	}
	db := sql.OpenDB(conn)
	t.Cleanup(func() { db.Close() })
	return db
}

// mysqlDatabase returns the DSN of a database name no one uses, dropped when
// the test ends; create false leaves creating it to OpenMySQL.
func mysqlDatabase(t *testing.T, create bool) string {
	t.Helper()
	cfg := mysqlServer(t)
	db := openServer(t, cfg)
	name := "roster_test_" + randomHex(t)
	if create {
		if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
			t.Fatalf("cannot create database %s: %s", name, err)
		}
	}
	// Registered before any store opens, so it runs after they close.
	t.Cleanup(func() {
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name); err != nil {
			t.Errorf("cannot drop database %s: %s", name, err)
		}
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}

func randomHex(t *testing.T) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
