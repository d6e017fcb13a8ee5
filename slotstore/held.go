package slotstore

import (
	"unique"
)

// Stamp identifies one registration of a registerId: its version and its
// registration timestamp. A re-registration at the same version has another.
type Stamp struct {
	Version uint64
	TS      int64
}

// Held returns, per dataInfoId of dataInfoIDs (of slot; others are
// skipped), the registrations sessionID owns there now, by registerId. A
// leader takes it before it asks a session for its publishers, and hands
// it to ReplaceOwned: the session's answer may predate writes of it that
// reach this node meanwhile, which must not be dropped for it.
func (s *Store) Held(slot uint32, sessionID string, dataInfoIDs []string) map[string]map[string]Stamp {
	if s.slot(slot) == nil {
		return nil
	}
	session := unique.Make(sessionID)
	out := make(map[string]map[string]Stamp, len(dataInfoIDs))
	s.readDatums(slot, dataInfoIDs, func(d *datum) {
		for rid, r := range d.pubs {
			if r.session != session {
				continue
			}
			if out[d.id] == nil {
				out[d.id] = make(map[string]Stamp)
			}
			out[d.id][rid] = Stamp{Version: r.Version, TS: r.TS}
		}
	})
	return out
}
