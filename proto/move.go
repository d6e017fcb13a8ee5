package proto

// Move asks a client to reconnect to another session, because this one is
// draining (stopping, or drained by an operator). It is one-way, session to
// client. Sessions lists the client addresses of sessions that are not
// draining, as the sender knows them; when it is empty the client falls
// back on its own list. A client that does not know the type ignores it and
// moves only when the session closes the connection.
type Move struct {
	Reason   string
	Sessions []string
}

func (*Move) Type() Type { return TypeMove }

func (m *Move) AppendBody(dst []byte) []byte {
	dst = appendString(dst, m.Reason)
	return appendStrings(dst, m.Sessions)
}

func (m *Move) Unmarshal(body []byte) error {
	r := newReader(body)
	m.Reason = r.string("move reason")
	m.Sessions = r.strings("move sessions", m.Sessions)
	return r.done()
}
