package slotstore

import (
	"unique"

	"github.com/roster-registry/roster/internal/pubrec"
	"github.com/roster-registry/roster/proto"
)

// record is one live publisher, 48 bytes: the compact publisher and the
// session whose write last won.
type record struct {
	pubrec.Rec
	session unique.Handle[string]
}

// tomb remembers an unpublished register id so a late, older publish of it
// is dropped, and who owned it, so another client cannot take it over.
type tomb struct {
	version uint64
	ts      int64
	at      int64       // local unix ns of the removal, for compaction
	owner   proto.Owner // the removed publisher's, or the remover's
	// gone marks RemoveSession's tombstone (one past the registration's
	// timestamp): the owning session's own comparison may bring the
	// registration back (ReplaceOwned), should the session be heard again.
	gone bool
}

// newer reports whether (v1, ts1) orders after (v2, ts2).
func newer(v1 uint64, ts1 int64, v2 uint64, ts2 int64) bool {
	return v1 > v2 || v1 == v2 && ts1 > ts2
}

// newRecord copies what it keeps of p, so nothing of the frame p was
// decoded from stays referenced.
func newRecord(session unique.Handle[string], p *proto.Publisher) *record {
	return &record{Rec: pubrec.Make(p), session: session}
}
