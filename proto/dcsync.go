package proto

// The messages of the import between data centers (DESIGN §10): a data node
// of one data center asks a remote meta for its slot table
// (DCSlotTableFetch), and each remote slot leader for the changes of the
// slots it leads locally (DCWatch, then ChangeNotify frames), which it
// fetches with DigestRequest and DiffRequest, the follower repair requests.

// DCSlotTableFetch asks a meta node for its slot table on behalf of a data
// node of another data center (authenticated as a data node, never
// registered). The reply is a SlotTable, or a Result with CodeOK when the
// table is still at KnownEpoch, CodeNotLeader (Hint: the leader) from a
// follower meta.
type DCSlotTableFetch struct {
	DataCenter string // the asking node's data center
	KnownEpoch uint64 // the epoch of the table the asker holds; 0 for none
}

func (*DCSlotTableFetch) Type() Type { return TypeDCSlotTableFetch }

func (m *DCSlotTableFetch) AppendBody(dst []byte) []byte {
	dst = appendString(dst, m.DataCenter)
	return appendUvarint(dst, m.KnownEpoch)
}

func (m *DCSlotTableFetch) Unmarshal(body []byte) error {
	r := newReader(body)
	m.DataCenter = r.string("data center")
	m.KnownEpoch = r.uvarint("known epoch")
	if len(m.DataCenter) > MaxDataCenterLen {
		r.fail("data center")
	}
	return r.done()
}

// DCWatch asks a slot leader of another data center to stream the changes
// of Slots to this connection: a one-way ChangeNotify per batch of changes
// of local publishers (never of what it imported itself). Each DCWatch
// replaces the connection's set; an empty one stops the stream. The reply
// is a Result.
type DCWatch struct {
	DataCenter string // the watching node's data center
	Slots      []uint32
}

func (*DCWatch) Type() Type { return TypeDCWatch }

func (m *DCWatch) AppendBody(dst []byte) []byte {
	dst = appendString(dst, m.DataCenter)
	dst = appendUvarint(dst, uint64(len(m.Slots)))
	for _, s := range m.Slots {
		dst = appendUvarint(dst, uint64(s))
	}
	return dst
}

func (m *DCWatch) Unmarshal(body []byte) error {
	r := newReader(body)
	m.DataCenter = r.string("data center")
	if len(m.DataCenter) > MaxDataCenterLen {
		r.fail("data center")
	}
	n := r.count("slots", 1)
	m.Slots = grow(m.Slots, n)
	for i := range m.Slots {
		m.Slots[i] = r.uint32v("slot")
	}
	return r.done()
}

// DCPublishers are the publishers of one datum imported from one remote
// data center (Datum.Remote).
type DCPublishers struct {
	DataCenter string
	Publishers []Publisher
}

// minDCPublishersSize is the smallest encoding of DCPublishers: a name and
// a count.
const minDCPublishersSize = 2

func appendRemote(dst []byte, rs []DCPublishers) []byte {
	dst = appendUvarint(dst, uint64(len(rs)))
	for i := range rs {
		dst = appendString(dst, rs[i].DataCenter)
		dst = appendPublishers(dst, rs[i].Publishers)
	}
	return dst
}

func readRemote(r *reader) []DCPublishers {
	n := r.count("remote data centers", minDCPublishersSize)
	if n > MaxRemoteDCs {
		r.fail("remote data centers")
		return nil
	}
	if n == 0 {
		return nil
	}
	out := make([]DCPublishers, n)
	for i := range out {
		out[i].DataCenter = r.string("remote data center")
		if len(out[i].DataCenter) > MaxDataCenterLen {
			r.fail("remote data center")
		}
		out[i].Publishers = readPublishers(r, nil)
	}
	return out
}
