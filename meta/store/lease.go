package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

func (s *sqlStore) TryAcquire(ctx context.Context, name, owner string, ttl time.Duration) (Lease, bool, error) {
	if err := checkKey("lease name", name); err != nil {
		return Lease{}, false, err
	}
	if err := checkKey("lease owner", owner); err != nil {
		return Lease{}, false, err
	}
	if ttl.Microseconds() <= 0 {
		return Lease{}, false, fmt.Errorf("%w: lease ttl %s is not positive", ErrInvalid, ttl)
	}
	// The second round runs only after creating a missing lease row.
	for range 2 {
		l, won, found, err := s.tryAcquire(ctx, name, owner, ttl)
		if err != nil {
			return Lease{}, false, fmt.Errorf("cannot acquire lease %q: %w", name, err)
		}
		if found {
			return l, won, nil
		}
		// Outside the acquiring transaction: on MySQL an INSERT IGNORE there
		// would take a shared lock that two racers then both try to upgrade.
		if _, err := s.db.ExecContext(ctx, s.q.insertLease, name); err != nil {
			return Lease{}, false, fmt.Errorf("cannot create lease %q: %w", name, err)
		}
	}
	return Lease{}, false, fmt.Errorf("cannot acquire lease %q: row vanished after creation", name)
}

// tryAcquire runs the conditional UPDATE and reads the result in one
// transaction, so the lease returned is the one the UPDATE left.
func (s *sqlStore) tryAcquire(ctx context.Context, name, owner string, ttl time.Duration) (l Lease, won, found bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Lease{}, false, false, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.q.acquire, owner, owner, ttl.Microseconds(), name, owner)
	if err != nil {
		return Lease{}, false, false, err
	}
	// Counts matched rows in both dialects (MySQL through clientFoundRows),
	// so a renewal that changes nothing visible still counts.
	n, err := res.RowsAffected()
	if err != nil {
		return Lease{}, false, false, err
	}
	l, found, err = readLease(ctx, tx, s.q.readLease, name)
	if err != nil || !found {
		return Lease{}, false, found, err
	}
	if err := tx.Commit(); err != nil {
		return Lease{}, false, false, err
	}
	return l, n > 0, true, nil
}

func (s *sqlStore) Release(ctx context.Context, name, owner string) error {
	if _, err := s.db.ExecContext(ctx, s.q.release, name, owner); err != nil {
		return fmt.Errorf("cannot release lease %q: %w", name, err)
	}
	return nil
}

func (s *sqlStore) Leader(ctx context.Context, name string) (Lease, error) {
	l, found, err := readLease(ctx, s.db, s.q.readLease, name)
	if err != nil {
		return Lease{}, fmt.Errorf("cannot read lease %q: %w", name, err)
	}
	if !found {
		var now int64
		if err := s.db.QueryRowContext(ctx, s.q.now).Scan(&now); err != nil {
			return Lease{}, fmt.Errorf("cannot read database clock: %w", err)
		}
		l.Now = dbTime(now)
	}
	return l, nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func readLease(ctx context.Context, q querier, query, name string) (Lease, bool, error) {
	var (
		l            Lease
		expires, now int64
	)
	err := q.QueryRowContext(ctx, query, name).Scan(&l.Owner, &l.Epoch, &expires, &now)
	if errors.Is(err, sql.ErrNoRows) {
		return Lease{}, false, nil
	}
	if err != nil {
		return Lease{}, false, err
	}
	l.ExpiresAt, l.Now = dbTime(expires), dbTime(now)
	return l, true, nil
}
