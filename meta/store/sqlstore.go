package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// maxKeyLen bounds lease names, owners and config keys (VARBINARY(255) on MySQL).
const maxKeyLen = 255

// openTimeout bounds connecting and migrating at open, which has no context.
const openTimeout = time.Minute

// sqlStore is the Store of both backends.
type sqlStore struct {
	db *sql.DB
	d  *dialect
	q  queries
}

// newSQLStore migrates the schema of db and wraps it; it closes db on error.
func newSQLStore(db *sql.DB, d *dialect) (*sqlStore, error) {
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	if err := migrate(ctx, db, d); err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot migrate %s meta store: %w", d.name, err)
	}
	return &sqlStore{db: db, d: d, q: d.queries()}, nil
}

func (s *sqlStore) Close() error { return s.db.Close() }

// fenced runs fn in a transaction that first raises the store's write fence
// to fence. The fence row stays locked until commit, so fenced writes are
// serialised and none with a lower fence can commit after a higher one.
func (s *sqlStore) fenced(ctx context.Context, fence uint64, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cannot begin transaction: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.q.raiseFence, fence, fence)
	if err != nil {
		return fmt.Errorf("cannot raise write fence: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("cannot raise write fence: %w", err)
	} else if n == 0 {
		return fmt.Errorf("cannot write with fence %d: %w", fence, ErrFenced)
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("cannot commit transaction: %w", err)
	}
	return nil
}

// checkKey rejects what a key column cannot hold.
func checkKey(what, k string) error {
	if k == "" || len(k) > maxKeyLen {
		return fmt.Errorf("%w: %s must have 1 to %d bytes, has %d", ErrInvalid, what, maxKeyLen, len(k))
	}
	return nil
}

// dbTime converts the database's clock (unix microseconds) to a time; 0,
// "never set", is the zero time.
func dbTime(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
