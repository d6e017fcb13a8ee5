package proto

// Temporary publications (VersionTemporary): a publisher that is pushed to
// the subscribers connected at the time and never stored. It travels
//
//	client --TemporaryPublisher--> session --TemporaryWrite--> slot leader
//	slot leader --TemporaryNotice--> every session interested in the datum
//	session --TemporaryPush--> every subscriber connection of VersionTemporary
//
// The slot leader is the one place that knows every interested session, so
// a temporary publication reaches the subscribers of every session, as a
// stored one does; but nothing of it is written to the store, replicated,
// put in a digest or returned by a fetch.

// TemporaryPublisher is a client's temporary publication: a Publisher with
// its own message type, so that a session older than VersionTemporary
// refuses it (CodeUnknownType) instead of storing it.
type TemporaryPublisher struct {
	Publisher
}

func (*TemporaryPublisher) Type() Type { return TypeTemporaryPublisher }

// TemporaryWrite forwards a temporary publication from a session to the
// leader of its slot, which answers with a Result: CodeOK once it sent the
// publication to the interested sessions, CodeNotLeader (Hint: the leader)
// or CodeOwned (the registerId names another client's stored publisher).
type TemporaryWrite struct {
	SessionID      string
	SlotTableEpoch uint64
	Publisher      Publisher // with Owner, which this message carries
}

func (*TemporaryWrite) Type() Type { return TypeTemporaryWrite }

func (m *TemporaryWrite) AppendBody(dst []byte) []byte {
	dst = appendString(dst, m.SessionID)
	dst = appendUvarint(dst, m.SlotTableEpoch)
	dst = m.Publisher.AppendBody(dst)
	return appendOwner(dst, m.Publisher.Owner)
}

func (m *TemporaryWrite) Unmarshal(body []byte) error {
	r := newReader(body)
	m.SessionID = r.string("session id")
	m.SlotTableEpoch = r.uvarint("slot table epoch")
	m.Publisher.read(&r)
	m.Publisher.Owner = r.owner("owner")
	return r.done()
}

// TemporaryNotice carries a temporary publication from a slot leader to a
// session interested in its datum (one-way). Version is the datum's
// version at the leader when it sent the notice, so a session whose copy
// is older knows to fetch.
type TemporaryNotice struct {
	Version   uint64
	Publisher Publisher
}

func (*TemporaryNotice) Type() Type { return TypeTemporaryNotice }

func (m *TemporaryNotice) AppendBody(dst []byte) []byte {
	dst = appendUvarint(dst, m.Version)
	return m.Publisher.AppendBody(dst)
}

func (m *TemporaryNotice) Unmarshal(body []byte) error {
	r := newReader(body)
	m.Version = r.uvarint("version")
	m.Publisher.read(&r)
	return r.done()
}

// TemporaryPush delivers temporary publications to a client (one-way, not
// acknowledged, never retried). It is encoded as a Push whose Publishers
// are the temporary entries only (Count and Hash are theirs), BaseVersion
// 0 and Removed empty; Version is the version of the list they go with.
// The client shows each of its subscribers of DataInfoID with zone filter
// Zone its current list plus these entries, once, and keeps its list as
// it was: the next push no longer carries them.
type TemporaryPush struct {
	Push
}

func (*TemporaryPush) Type() Type { return TypeTemporaryPush }
