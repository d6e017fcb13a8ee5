package session

import (
	"github.com/roster-registry/roster/internal/pubrec"
	"github.com/roster-registry/roster/proto"
)

// write is a publisher write as the forwarder holds it, queued until its
// slot leader acks it and then in the slot's replay ring (forward.go): the
// publisher's record header, whose strings are the record's one blob (the
// registry's own record, or a copy made once for a removal), and its
// dataInfoId. 64 bytes, where the proto.WriteOp it is sent as takes 176:
// a registration burst fills every slot's ring (131,072 writes at 256
// slots), and the rings held 25 MB of a node's 178 MB live heap after
// bench-compare's 200,000 registrations.
type write struct {
	dataInfoID string
	rec        pubrec.Rec
	kind       proto.OpKind
}

// putWrite is the write of p's record as it is now: the record's header is
// copied (its stamp changes in place, clientoff.go), its strings are
// shared. The registry's lock must be held.
func putWrite(p *publisher) write {
	return write{dataInfoID: p.set.dataInfoID, rec: p.Rec, kind: proto.OpPut}
}

// removeWrite is the removal of p's record at stamp ts. The registry's lock
// must be held, or p be out of the registry (its stamp no longer changes).
func removeWrite(p *publisher, ts int64) write {
	w := putWrite(p)
	w.kind, w.rec.TS = proto.OpRemove, ts
	return w
}

// newWrite makes a write of op, copying its strings (a removal of a
// publisher this session does not hold, or a test's).
func newWrite(op proto.WriteOp) write {
	return write{dataInfoID: op.Publisher.DataInfoID, rec: pubrec.Make(&op.Publisher), kind: op.Kind}
}

// registerID returns the written publisher's registerId.
func (w *write) registerID() string { return w.rec.RegisterID() }

// op returns the write as sent. A put's data strings are appended to
// *data, which a batch's puts share; a removal carries only what a data
// node reads of one (its key, version, stamp and owner).
func (w *write) op(data *[]string) proto.WriteOp {
	if w.kind != proto.OpPut {
		return proto.WriteOp{Kind: w.kind, Publisher: proto.Publisher{DataInfoID: w.dataInfoID, RegisterID: w.registerID(),
			Version: w.rec.Version, RegisterTimestamp: w.rec.TS, Owner: w.rec.Owner()}}
	}
	op := proto.WriteOp{Kind: proto.OpPut}
	w.rec.Fill(w.dataInfoID, &op.Publisher, data)
	return op
}
