package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestLease(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := testContext(t)
		s := b.open(t)

		l, err := s.Leader(ctx, "meta")
		if err != nil {
			t.Fatalf("Leader of a lease never taken: %s", err)
		}
		if l.Owner != "" || l.Epoch != 0 || l.Active() || l.Now.IsZero() {
			t.Fatalf("lease never taken: got %+v, want no owner, epoch 0 and the database clock", l)
		}

		first, ok, err := s.TryAcquire(ctx, "meta", "a", time.Minute)
		if err != nil || !ok {
			t.Fatalf("first acquire: ok=%v err=%v", ok, err)
		}
		if first.Owner != "a" || first.Epoch != 1 || !first.Active() {
			t.Fatalf("first acquire: got %+v, want a active at epoch 1", first)
		}
		if r := first.Remaining(); r <= 50*time.Second || r > time.Minute {
			t.Fatalf("first acquire: remaining %s, want about a minute", r)
		}

		// Renewal keeps the epoch and moves the expiry (poll: SQLite's clock ticks in ms).
		waitFor(t, 5*time.Second, "renewal to extend the expiry", func() bool {
			l, ok, err := s.TryAcquire(ctx, "meta", "a", time.Minute)
			if err != nil || !ok || l.Epoch != 1 || l.Owner != "a" {
				t.Fatalf("renew: got %+v ok=%v err=%v, want a at epoch 1", l, ok, err)
			}
			return l.ExpiresAt.After(first.ExpiresAt)
		})

		l, ok, err = s.TryAcquire(ctx, "meta", "b", time.Minute)
		if err != nil || ok {
			t.Fatalf("b takes a's live lease: ok=%v err=%v, want refused", ok, err)
		}
		if l.Owner != "a" || l.Epoch != 1 {
			t.Fatalf("refused acquire returns %+v, want the lease of a at epoch 1", l)
		}

		// Release hands over at once, with a higher epoch; releasing what one
		// does not hold is a no-op.
		if err := s.Release(ctx, "meta", "b"); err != nil {
			t.Fatalf("release by non-owner: %s", err)
		}
		if l, _ := s.Leader(ctx, "meta"); !l.Active() || l.Owner != "a" {
			t.Fatalf("release by non-owner changed the lease: %+v", l)
		}
		if err := s.Release(ctx, "meta", "a"); err != nil {
			t.Fatalf("release: %s", err)
		}
		l, err = s.Leader(ctx, "meta")
		if err != nil || l.Active() || l.Epoch != 1 {
			t.Fatalf("after release: got %+v err=%v, want expired at epoch 1", l, err)
		}
		l, ok, err = s.TryAcquire(ctx, "meta", "b", 300*time.Millisecond)
		if err != nil || !ok || l.Epoch != 2 || l.Owner != "b" {
			t.Fatalf("acquire after release: got %+v ok=%v err=%v, want b at epoch 2", l, ok, err)
		}

		// Expiry hands over too.
		if _, ok, _ := s.TryAcquire(ctx, "meta", "c", time.Minute); ok {
			t.Fatalf("c took b's lease before it expired")
		}
		waitFor(t, 5*time.Second, "b's lease to expire and c to take it", func() bool {
			l, ok, err = s.TryAcquire(ctx, "meta", "c", time.Minute)
			if err != nil {
				t.Fatalf("acquire: %s", err)
			}
			return ok
		})
		if l.Epoch != 3 || l.Owner != "c" {
			t.Fatalf("acquire after expiry: got %+v, want c at epoch 3", l)
		}

		// The former owner taking back its own expired lease is not a change.
		if err := s.Release(ctx, "meta", "c"); err != nil {
			t.Fatal(err)
		}
		if l, ok, err := s.TryAcquire(ctx, "meta", "c", time.Minute); err != nil || !ok || l.Epoch != 3 {
			t.Fatalf("retake by the same owner: got %+v ok=%v err=%v, want epoch 3", l, ok, err)
		}

		// Leases are independent.
		if l, ok, err := s.TryAcquire(ctx, "other", "a", time.Minute); err != nil || !ok || l.Epoch != 1 {
			t.Fatalf("acquire another lease: got %+v ok=%v err=%v, want epoch 1", l, ok, err)
		}
	})
}

func TestLeaseRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := testContext(t)
		// Two handles, like two meta nodes, and two goroutines on each.
		handles := []Store{b.open(t), b.open(t)}
		const racers, rounds = 4, 8
		for round := range rounds {
			var (
				wg      sync.WaitGroup
				start   = make(chan struct{})
				mu      sync.Mutex
				winners []string
				errs    []error
			)
			for i := range racers {
				owner := fmt.Sprintf("node%d", i)
				wg.Go(func() {
					<-start
					_, ok, err := handles[i%len(handles)].TryAcquire(ctx, "meta", owner, time.Minute)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
					}
					if ok {
						winners = append(winners, owner)
					}
				})
			}
			close(start)
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatalf("round %d: %s", round, err)
			}
			if len(winners) != 1 {
				t.Fatalf("round %d: winners %v, want exactly one", round, winners)
			}
			l, err := handles[0].Leader(ctx, "meta")
			// Each round changes owner twice: to the winner, then to the bystander.
			if want := uint64(2*round + 1); err != nil || l.Owner != winners[0] || l.Epoch != want {
				t.Fatalf("round %d: lease %+v err=%v, want %s at epoch %d", round, l, err, winners[0], want)
			}
			// Hand over to the next round's racers, all but the winner of
			// this one (whose retake would keep the epoch).
			if err := handles[1].Release(ctx, "meta", winners[0]); err != nil {
				t.Fatal(err)
			}
			if _, ok, err := handles[0].TryAcquire(ctx, "meta", "bystander", time.Minute); err != nil || !ok {
				t.Fatalf("round %d: bystander acquire ok=%v err=%v", round, ok, err)
			}
			if err := handles[0].Release(ctx, "meta", "bystander"); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestLeaseInvalid(t *testing.T) {
	s, err := OpenSQLite(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := testContext(t)
	f := func(name, owner string, ttl time.Duration) {
		t.Helper()
		if _, _, err := s.TryAcquire(ctx, name, owner, ttl); !errors.Is(err, ErrInvalid) {
			t.Fatalf("TryAcquire(%q, %q, %s): got %v, want ErrInvalid", name, owner, ttl, err)
		}
	}
	f("", "a", time.Second)
	f("meta", "", time.Second)
	f("meta", "a", 0)
	f("meta", "a", -time.Second)
	f("meta", "a", time.Nanosecond)
	f(string(make([]byte, 256)), "a", time.Second)
}
