package store

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // registers driver "sqlite"
)

var sqliteDialect = dialect{
	name: "SQLite",
	// SQLite's clock has millisecond resolution; ROUND keeps the float's
	// error from truncating 1 ms to 999 µs.
	now:          `(CAST(ROUND(unixepoch('subsec') * 1000) AS INTEGER) * 1000)`,
	keyType:      "TEXT",
	blobType:     "BLOB",
	insertIgnore: "INSERT OR IGNORE",
	upsertConfig: "ON CONFLICT (k) DO UPDATE SET v = excluded.v, fence = excluded.fence, updated_at = excluded.updated_at",
}

// sqliteParams: WAL lets readers run beside the writer; the busy timeout
// makes writers from other connections or processes wait instead of failing;
// BEGIN IMMEDIATE takes the write lock up front, so a transaction never has
// to upgrade a read snapshot (which fails at once, without waiting).
const sqliteParams = "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"

// OpenSQLite opens (creating it, its directory and its schema if needed) the
// SQLite database at path. ":memory:" gives a private in-memory store.
func OpenSQLite(path string) (Store, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("cannot open SQLite meta store %q: %w: want a file path without '?'", path, ErrInvalid)
	}
	memory := path == ":memory:"
	if !memory {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("cannot create directory of SQLite meta store: %w", err)
		}
	}
	db, err := sql.Open("sqlite", path+sqliteParams)
	if err != nil {
		return nil, fmt.Errorf("cannot open SQLite meta store %q: %w", path, err)
	}
	if memory {
		// Every connection to ":memory:" is another database: keep one, forever.
		db.SetMaxOpenConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
	}
	s, err := newSQLStore(db, &sqliteDialect)
	if err != nil {
		return nil, fmt.Errorf("cannot open SQLite meta store %q: %w", path, err)
	}
	return s, nil
}
