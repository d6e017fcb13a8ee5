package store

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func TestMigrationsIdempotent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := testContext(t)
		// Meta nodes starting together on a new database.
		const n = 4
		stores := make([]Store, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { stores[i], errs[i] = b.openErr() })
		}
		wg.Wait()
		for _, s := range stores {
			if s != nil {
				t.Cleanup(func() { s.Close() })
			}
		}
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent opens: %s", err)
		}
		// And once more after that.
		s := b.open(t)
		if _, ok, err := s.TryAcquire(ctx, "meta", "a", time.Minute); err != nil || !ok {
			t.Fatalf("acquire after migrating: ok=%v err=%v", ok, err)
		}

		rows, err := s.(*sqlStore).db.QueryContext(ctx, `SELECT version FROM schema_version ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var versions []int
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			versions = append(versions, v)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(versions) != len(migrations) || versions[len(versions)-1] != len(migrations) {
			t.Fatalf("schema versions %v, want 1..%d once each", versions, len(migrations))
		}
	})
}
