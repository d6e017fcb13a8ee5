package slotstore

import (
	"fmt"
	"unique"

	"github.com/roster-registry/roster/proto"
)

// Write applies at the slot leader a client's write that session sessionID
// forwards: a put as PutFromOwner, a removal as Remove. It is refused, with
// nothing changed, when the registerId belongs to another client (ErrOwned:
// p.Owner differs from the owner of its live publisher or tombstone, see
// proto.Owner.Allows) or when p.Version is out of range or steps too far
// ahead of the version held (ErrVersionRange, proto.CheckVersionStep). It
// reports the datum's version and whether the datum changed.
func (s *Store) Write(sessionID string, kind proto.OpKind, p *proto.Publisher) (proto.DatumVersion, bool, error) {
	if p.DataInfoID == "" || p.RegisterID == "" {
		return proto.DatumVersion{DataInfoID: p.DataInfoID}, false, nil
	}
	if msg := proto.CheckVersionStep(p.Version, 0); msg != "" {
		return proto.DatumVersion{DataInfoID: p.DataInfoID}, false, fmt.Errorf("%w: %s", ErrVersionRange, msg)
	}
	session := unique.Make(sessionID)
	var rec *record
	if kind == proto.OpPut {
		rec = newRecord(session, p) // copied before the lock, as in Put
	}
	now := s.now().UnixNano()
	var err error
	v, changed := s.update(p.DataInfoID, func(d *datum) bool {
		old, live := d.pubs[p.RegisterID] // looked up once: this is every client write's path
		if err = d.checkOver(p.RegisterID, old, live, p.Owner, p.Version); err != nil {
			return false
		}
		if rec != nil {
			return d.putFromOwnerOver(s, p.RegisterID, rec, old, live)
		}
		return d.remove(s, session, false, p.RegisterID, p.Version, p.RegisterTimestamp, now, p.Owner)
	})
	return v, changed, err
}

// check returns an error when a write of rid by owner w at version v must
// be refused (see Write). d.mu must be held.
func (d *datum) check(rid string, w proto.Owner, v uint64) error {
	old, live := d.pubs[rid]
	return d.checkOver(rid, old, live, w, v)
}

// checkOver is check once rid was looked up: old is its live record if
// live. d.mu must be held.
func (d *datum) checkOver(rid string, old *record, live bool, w proto.Owner, v uint64) error {
	var (
		owner proto.Owner
		held  uint64
	)
	if live {
		owner, held = old.Owner(), old.Version
	} else if t, ok := d.tombs[rid]; ok {
		owner, held = t.owner, t.version
	}
	if !owner.Allows(w) {
		return ErrOwned
	}
	if msg := proto.CheckVersionStep(v, held); msg != "" {
		return fmt.Errorf("%w: %s", ErrVersionRange, msg)
	}
	return nil
}

// CheckOwner returns ErrOwned when the registerId rid of dataInfoID is a
// live publisher or a tombstone of another client than w, and changes
// nothing: for what is not stored (a temporary publication) but must not
// stand in for another client's publisher.
func (s *Store) CheckOwner(dataInfoID, rid string, w proto.Owner) error {
	d := s.lookup(dataInfoID)
	if d == nil {
		return nil
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	var owner proto.Owner
	if old, live := d.pubs[rid]; live {
		owner = old.Owner()
	} else if t, ok := d.tombs[rid]; ok {
		owner = t.owner
	}
	if !owner.Allows(w) {
		return ErrOwned
	}
	return nil
}
