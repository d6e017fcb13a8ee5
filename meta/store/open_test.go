package store

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpen(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "a", "b", "meta.db")
	s, err := Open("sqlite://" + path) // path is absolute: sqlite:///...
	if err != nil {
		t.Fatalf("open sqlite URL: %s", err)
	}
	if err := s.PutConfig(ctx, "k", []byte("v"), 1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, ok, err := s.GetConfig(ctx, "k"); err != nil || !ok || string(v) != "v" {
		t.Fatalf("reopened store lost a value: %q %v %v", v, ok, err)
	}

	f := func(url string, want error) {
		t.Helper()
		s, err := Open(url)
		if err == nil {
			s.Close()
		}
		if !errors.Is(err, want) {
			t.Fatalf("Open(%q): got %v, want %v", url, err, want)
		}
	}
	f("sqlite://", ErrInvalid)
	f("sqlite://"+path+"?x=1", ErrInvalid)
	f("mysql://root@tcp(127.0.0.1:3306)/", ErrInvalid)
	f("postgres://localhost/roster", ErrUnknownScheme)
	f(path, ErrUnknownScheme)
}

func TestOpenMySQLCreatesDatabase(t *testing.T) {
	dsn := mysqlDatabase(t, false)
	s, err := Open("mysql://" + dsn)
	if err != nil {
		t.Fatalf("open a database that does not exist yet: %s", err)
	}
	defer s.Close()
	if _, err := s.Leader(testContext(t), "meta"); err != nil {
		t.Fatal(err)
	}
}

func TestOpenErrorHidesPassword(t *testing.T) {
	_, err := OpenMySQL("root:s3cret@tcp(127.0.0.1:1)/roster?timeout=200ms")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("got %v, want an error without the password", err)
	}
}
