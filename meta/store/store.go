package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/roster-registry/roster/proto"
)

// Lease is a leader lease as the database sees it. ExpiresAt and Now come from
// the database's clock, so compare them with each other, never with the local
// clock.
type Lease struct {
	Owner     string // "" when nobody ever held it
	Epoch     uint64 // grows by one on every change of owner
	ExpiresAt time.Time
	Now       time.Time // the database's clock when the lease was read
}

// Active reports whether someone holds the lease at Now.
func (l Lease) Active() bool { return l.Owner != "" && l.ExpiresAt.After(l.Now) }

// Remaining is how long the lease still runs after Now (0 when expired).
func (l Lease) Remaining() time.Duration {
	if !l.Active() {
		return 0
	}
	return l.ExpiresAt.Sub(l.Now)
}

// Store is the meta tier's persistent state. Implementations are safe for
// concurrent use; several Stores (processes) may share one database.
type Store interface {
	// TryAcquire takes or renews the leader lease name for owner for ttl, in
	// one conditional UPDATE on the database's clock: it succeeds when the
	// lease is expired or already owner's. The epoch grows by one when the
	// owner changes, not on renewal. It returns the lease as it stands after
	// the call and whether owner holds it.
	//
	// A holder should stop acting at a local monotonic deadline of
	// (time taken just before the call) + ttl: the database started the ttl
	// later than that, so the holder stops before anyone else can take over.
	TryAcquire(ctx context.Context, name, owner string, ttl time.Duration) (Lease, bool, error)
	// Release expires the lease now if owner holds it (a voluntary step-down),
	// keeping its epoch; it is a no-op otherwise.
	Release(ctx context.Context, name, owner string) error
	// Leader reads the lease without changing it; a lease never taken has an
	// empty Owner and epoch 0.
	Leader(ctx context.Context, name string) (Lease, error)

	// SaveSlotTable stores t if its Epoch is above the stored one (saving the
	// stored table again is a no-op, so a retry after a lost reply succeeds).
	// fence is the caller's lease epoch; see ErrFenced and ErrStaleEpoch.
	SaveSlotTable(ctx context.Context, t *proto.SlotTable, fence uint64) error
	// LoadSlotTable returns the stored table, or nil when none was saved.
	LoadSlotTable(ctx context.Context) (*proto.SlotTable, error)

	// PutConfig stores a small value under key (client-off IPs, switches,
	// app revisions), fenced like SaveSlotTable.
	PutConfig(ctx context.Context, key string, value []byte, fence uint64) error
	// GetConfig returns the value under key and whether it exists.
	GetConfig(ctx context.Context, key string) ([]byte, bool, error)
	// ListConfig returns every key starting with prefix (byte-wise, case
	// sensitive) and its value.
	ListConfig(ctx context.Context, prefix string) (map[string][]byte, error)
	// DeleteConfig removes key (no error when absent), fenced like PutConfig.
	DeleteConfig(ctx context.Context, key string, fence uint64) error

	Close() error
}

// Open opens the store named by a URL: "sqlite:///abs/path.db",
// "sqlite://relative/path.db" or "mysql://user:pass@tcp(host:3306)/db?params"
// (the part after "mysql://" is a go-sql-driver DSN).
func Open(url string) (Store, error) {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return nil, fmt.Errorf("cannot open meta store: %w: want sqlite:// or mysql://", ErrUnknownScheme)
	}
	switch scheme {
	case "sqlite":
		return OpenSQLite(rest)
	case "mysql":
		return OpenMySQL(rest)
	}
	// The URL may hold a password, so only its scheme goes into the error.
	return nil, fmt.Errorf("cannot open meta store with scheme %q: %w", scheme, ErrUnknownScheme)
}
