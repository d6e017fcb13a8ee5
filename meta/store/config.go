package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

func (s *sqlStore) PutConfig(ctx context.Context, key string, value []byte, fence uint64) error {
	if err := checkKey("config key", key); err != nil {
		return fmt.Errorf("cannot put config: %w", err)
	}
	if value == nil {
		value = []byte{} // a nil slice would be sent as NULL
	}
	return s.fenced(ctx, fence, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.putConfig, key, value, fence); err != nil {
			return fmt.Errorf("cannot put config %q: %w", key, err)
		}
		return nil
	})
}

func (s *sqlStore) GetConfig(ctx context.Context, key string) ([]byte, bool, error) {
	var v []byte
	err := s.db.QueryRowContext(ctx, s.q.getConfig, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cannot get config %q: %w", key, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, true, nil
}

func (s *sqlStore) ListConfig(ctx context.Context, prefix string) (map[string][]byte, error) {
	// A key range rather than LIKE: no wildcard escaping, and it uses the
	// primary key in both engines.
	var (
		rows *sql.Rows
		err  error
	)
	if end, ok := prefixEnd(prefix); ok {
		rows, err = s.db.QueryContext(ctx, s.q.listConfig, prefix, end)
	} else {
		rows, err = s.db.QueryContext(ctx, s.q.listConfigFrom, prefix)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot list config %q: %w", prefix, err)
	}
	defer rows.Close()
	m := make(map[string][]byte)
	for rows.Next() {
		var (
			k string
			v []byte
		)
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("cannot list config %q: %w", prefix, err)
		}
		if v == nil {
			v = []byte{}
		}
		m[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot list config %q: %w", prefix, err)
	}
	return m, nil
}

// prefixEnd returns the smallest string above every string starting with
// prefix, or false when there is none (an empty prefix or all 0xff bytes).
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

func (s *sqlStore) DeleteConfig(ctx context.Context, key string, fence uint64) error {
	return s.fenced(ctx, fence, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.deleteConfig, key); err != nil {
			return fmt.Errorf("cannot delete config %q: %w", key, err)
		}
		return nil
	})
}
