package session

import (
	"github.com/roster-registry/roster/internal/pubrec"
	"github.com/roster-registry/roster/proto"
)

// publisher is a client's live publication as this session holds it, 48
// bytes: the compact publisher and the connection that owns it. Nothing of
// the frame it was decoded from is kept.
type publisher struct {
	pubrec.Rec
	conn *clientConn // owner; a replay on a new connection moves it
	set  *pubSet     // its dataInfoId's, set once before it is linked
	// The connection's other publishers (clientConn.pubs), guarded by
	// conn.mu.
	prev, next *publisher
}

func newPublisher(conn *clientConn, p *proto.Publisher) *publisher {
	return &publisher{Rec: pubrec.Make(p), conn: conn}
}

// publisher returns p as a proto.Publisher of dataInfoID; the strings alias p's.
func (p *publisher) publisher(dataInfoID string) proto.Publisher {
	var out proto.Publisher
	var data []string
	p.Fill(dataInfoID, &out, &data)
	return out
}
