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
	m := s.slot(slot)
	if m == nil {
		return nil
	}
	session := unique.Make(sessionID)
	out := make(map[string]map[string]Stamp, len(dataInfoIDs))
	for _, id := range dataInfoIDs {
		if SlotOf(id, len(s.slots)) != slot {
			continue
		}
		d, ok := m.Load(id)
		if !ok {
			continue
		}
		d.mu.RLock()
		for rid, r := range d.pubs {
			if r.session != session {
				continue
			}
			if out[id] == nil {
				out[id] = make(map[string]Stamp)
			}
			out[id][rid] = Stamp{Version: r.Version, TS: r.TS}
		}
		d.mu.RUnlock()
	}
	return out
}
