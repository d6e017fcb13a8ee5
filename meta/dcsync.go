package meta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/roster-registry/roster/netio"
	"github.com/roster-registry/roster/proto"
)

// serveDCSlotTable answers a data node of another data center that imports
// this one's publishers: the leader's slot table, so it finds the slot
// leaders to stream from. The node authenticated as a data node (linked
// data centers share node credentials) but is not registered here: this
// request neither registers it nor touches the table.
func (s *Server) serveDCSlotTable(c *netio.Conn, id uint64, f netio.Frame) {
	var m proto.DCSlotTableFetch
	if err := f.Decode(&m); err != nil {
		reply(c, id, &proto.Result{Code: proto.CodeBadRequest, Message: err.Error()})
		return
	}
	if m.DataCenter == s.cfg.DataCenter {
		reply(c, id, &proto.Result{Code: proto.CodeBadRequest,
			Message: fmt.Sprintf("a slot table fetch for data center %q from this data center: a local node gets it in its heartbeat", m.DataCenter)})
		return
	}
	s.mu.Lock()
	t, leads, hint := s.saved, s.isLeaderLocked(time.Now()), s.leaderHintLocked() // stored only, as for local nodes
	s.mu.Unlock()
	switch {
	case !leads:
		reply(c, id, &proto.Result{Code: proto.CodeNotLeader, Message: "this meta node does not lead", Hint: hint})
	case t == nil:
		reply(c, id, &proto.Result{Code: proto.CodeUnavailable, Message: "no slot table yet"})
	case t.Epoch == m.KnownEpoch:
		reply(c, id, &proto.Result{Code: proto.CodeOK})
	default:
		reply(c, id, t) // issued tables are never modified
	}
}

// dcImportAnswer is a data node's answer to GET /api/dc/status: the object
// data.DCStatusJSON ({"dataCenter": ..., "remotes": [...]}), or a bare
// list of the remotes.
type dcImportAnswer []proto.DCImportStatus

func (a *dcImportAnswer) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, (*[]proto.DCImportStatus)(a))
	}
	var obj struct {
		Remotes []proto.DCImportStatus `json:"remotes"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	*a = obj.Remotes
	return nil
}
