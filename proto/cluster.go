package proto

import "log/slog"

// OpKind is the kind of one write in a WriteBatch.
type OpKind uint8

const (
	OpPut    OpKind = 1 // register or re-register a publisher
	OpRemove OpKind = 2 // unregister; Publisher carries identity, version and timestamp only
)

// WriteOp is one publisher write.
type WriteOp struct {
	Kind      OpKind
	Publisher Publisher
}

// WriteBatch carries writes from a session to a slot leader (or, with
// Replica set, from a leader to its followers). Ops of one slot are applied in
// order. SessionID names the owning session, unique per session process. The
// ops' Publisher.Owner travel in an optional trailing list (left out when
// every one is unknown).
type WriteBatch struct {
	SessionID      string
	SlotTableEpoch uint64
	Replica        bool
	Ops            []WriteOp
}

func (*WriteBatch) Type() Type { return TypeWriteBatch }

func (m *WriteBatch) AppendBody(dst []byte) []byte {
	dst = appendString(dst, m.SessionID)
	dst = appendUvarint(dst, m.SlotTableEpoch)
	dst = appendBool(dst, m.Replica)
	dst = appendUvarint(dst, uint64(len(m.Ops)))
	for i := range m.Ops {
		dst = append(dst, byte(m.Ops[i].Kind))
		dst = m.Ops[i].Publisher.AppendBody(dst)
	}
	return appendOwners(dst, len(m.Ops), func(i int) Owner { return m.Ops[i].Publisher.Owner })
}

func (m *WriteBatch) Unmarshal(body []byte) error {
	r := newReader(body)
	m.SessionID = r.string("session id")
	m.SlotTableEpoch = r.uvarint("slot table epoch")
	m.Replica = r.bool("replica")
	n := r.count("ops", 1+minPublisherSize) // kind, then a publisher
	m.Ops = grow(m.Ops, n)
	arena := make([]string, 0, n)
	for i := range m.Ops {
		op := &m.Ops[i]
		op.Kind = OpKind(r.byte1("op kind"))
		if op.Kind != OpPut && op.Kind != OpRemove {
			r.fail("op kind")
		}
		op.Publisher.readInto(&r, &arena)
	}
	readOwners(&r, n, func(i int, o Owner) { m.Ops[i].Publisher.Owner = o })
	return r.done()
}

// WriteResult answers a WriteBatch with one code per op, in order.
// CodeNotLeader asks the session to resend that op to the slot's new leader.
type WriteResult struct {
	SlotTableEpoch uint64 // the data node's epoch, so a stale session refreshes
	Codes          []Code
}

func (*WriteResult) Type() Type { return TypeWriteResult }

func (m *WriteResult) AppendBody(dst []byte) []byte {
	dst = appendUvarint(dst, m.SlotTableEpoch)
	dst = appendUvarint(dst, uint64(len(m.Codes)))
	for _, c := range m.Codes {
		dst = appendUvarint(dst, uint64(c))
	}
	return dst
}

func (m *WriteResult) Unmarshal(body []byte) error {
	r := newReader(body)
	m.SlotTableEpoch = r.uvarint("slot table epoch")
	n := r.count("codes", 1)
	m.Codes = grow(m.Codes, n)
	for i := range m.Codes {
		c := r.uvarint("code")
		if c > 1<<16-1 {
			r.fail("code")
		}
		m.Codes[i] = Code(c)
	}
	return r.done()
}

// DatumVersion names a datum's version and, when known, the hash of its
// publishers.
type DatumVersion struct {
	DataInfoID string
	Version    uint64
	// Hash is the datum's ListHash; 0 when unknown (an older data node).
	// Two leaders of one slot stamp versions on their own, so across a
	// leader hand-over one version can name two contents; the hash tells
	// them apart.
	Hash uint64
}

// ChangeNotify tells a session which datums changed (data → session).
type ChangeNotify struct {
	Changes []DatumVersion
}

func (*ChangeNotify) Type() Type { return TypeChangeNotify }

func (m *ChangeNotify) AppendBody(dst []byte) []byte {
	dst = appendUvarint(dst, uint64(len(m.Changes)))
	hashed := false
	for _, c := range m.Changes {
		dst = appendString(dst, c.DataInfoID)
		dst = appendUvarint(dst, c.Version)
		hashed = hashed || c.Hash != 0
	}
	// Optional trailing field: one hash per change, in order. A later
	// optional field must write them first (zeros if unknown).
	if hashed {
		for _, c := range m.Changes {
			dst = appendUint64(dst, c.Hash)
		}
	}
	return dst
}

func (m *ChangeNotify) Unmarshal(body []byte) error {
	r := newReader(body)
	n := r.count("changes", 2)
	m.Changes = grow(m.Changes, n)
	for i := range m.Changes {
		m.Changes[i] = DatumVersion{DataInfoID: r.string("data info id"), Version: r.uvarint("version")}
	}
	if r.more() {
		for i := range m.Changes {
			m.Changes[i].Hash = r.fixed64("datum hash")
		}
	}
	return r.done()
}

// DatumFetch asks a slot leader for a datum; the reply is a Datum.
type DatumFetch struct {
	DataInfoID string
	// Remote asks for the publishers imported from remote data centers
	// too (Datum.Remote), for global subscribers. Optional trailing
	// field: false is not written, and a data node that does not know it
	// answers with the local publishers only.
	Remote bool
}

func (*DatumFetch) Type() Type { return TypeDatumFetch }

func (m *DatumFetch) AppendBody(dst []byte) []byte {
	dst = appendString(dst, m.DataInfoID)
	if m.Remote {
		dst = appendBool(dst, true)
	}
	return dst
}

func (m *DatumFetch) Unmarshal(body []byte) error {
	r := newReader(body)
	m.DataInfoID = r.string("data info id")
	m.Remote = false
	if r.more() {
		m.Remote = r.bool("remote")
	}
	return r.done()
}

// Datum is every live publisher of one dataInfoId at one version.
type Datum struct {
	DataInfoID string
	Version    uint64
	Publishers []Publisher
	// SettleMs, in a fetch's answer, is how long the slot's leader still
	// takes replays after it rebuilt the slot from nothing (the whole data
	// tier restarted): publishers may be missing until then, and a client
	// that held a list before must keep it meanwhile. Optional trailing
	// field: 0 is not written.
	SettleMs uint32
	// Remote holds the publishers imported from each remote data center
	// that pushes to this one, one segment per data center (none empty),
	// when the fetch asked for them (DatumFetch.Remote). Version covers
	// them. Optional trailing field after SettleMs (then written even when
	// 0), behind the byte datumRemoteMark: bytes that do not start with it
	// are a later field, ignored. A later field must write the mark and an
	// empty list first.
	Remote []DCPublishers
}

func (*Datum) Type() Type { return TypeDatum }

func (m *Datum) AppendBody(dst []byte) []byte {
	dst = appendString(dst, m.DataInfoID)
	dst = appendUvarint(dst, m.Version)
	dst = appendPublishers(dst, m.Publishers)
	if m.SettleMs != 0 || len(m.Remote) > 0 {
		dst = appendUvarint(dst, uint64(m.SettleMs))
	}
	if len(m.Remote) > 0 {
		dst = append(dst, datumRemoteMark)
		dst = appendRemote(dst, m.Remote)
	}
	return dst
}

func (m *Datum) Unmarshal(body []byte) error {
	r := newReader(body)
	return m.decode(&r)
}

// UnmarshalOwned is Unmarshal of a body the caller hands over for good: it
// must never be written again (a reply's body, which belongs to whoever
// asked: wire.Link.Request). The decoded strings point into it rather than
// into a copy, and keep all of it alive while any of them is kept.
func (m *Datum) UnmarshalOwned(body []byte) error {
	r := ownedReader(body)
	return m.decode(&r)
}

func (m *Datum) decode(r *reader) error {
	m.DataInfoID = r.string("data info id")
	m.Version = r.uvarint("version")
	m.Publishers = readPublishers(r, m.Publishers)
	m.SettleMs = 0
	if r.more() {
		m.SettleMs = r.uint32v("settle ms")
		if m.SettleMs == 0 && !r.more() {
			// Written as 0 only ahead of Remote: a cut message.
			r.fail("settle ms")
		}
	}
	m.Remote = nil
	if r.more() && r.s[r.off] == datumRemoteMark {
		r.off++
		m.Remote = readRemote(r)
	}
	return r.done()
}

// Reset empties m for reuse: the capacity of Publishers is kept, every
// string and slice m held is dropped, so a pooled Datum keeps nothing alive
// (a store's records, a reply's body).
func (m *Datum) Reset() {
	clear(m.Publishers) // beyond len: cleared by an earlier Reset, or never used
	*m = Datum{Publishers: m.Publishers[:0]}
}

// datumRemoteMark opens Datum.Remote.
const datumRemoteMark = 0xdc

func appendPublishers(dst []byte, ps []Publisher) []byte {
	dst = appendUvarint(dst, uint64(len(ps)))
	for i := range ps {
		dst = ps[i].AppendBody(dst)
	}
	return dst
}

// minPublisherSize is the smallest encoding of a Publisher: nine one-byte
// fields (six strings, two counts, the version; the timestamp is a varint).
const minPublisherSize = 9

func readPublishers(r *reader, dst []Publisher) []Publisher {
	n := r.count("publishers", minPublisherSize)
	dst = grow(dst, n)
	arena := make([]string, 0, n)
	for i := range dst {
		dst[i].readInto(r, &arena)
	}
	return dst
}

// Interest declares which dataInfoIds a session has subscribers for, so data
// nodes notify it of those only. Reset replaces the whole set with Add. The
// reply is a ChangeNotify with the current version of every id of Add in the
// slots the node leads, so the session can fetch what changed before the node
// knew of its interest (and, sent again periodically, repair missed pushes).
//
// Known, when set, is parallel to Add: the version and hash of each id the
// session holds (zero: none). The reply then leaves out the ids whose
// current version and hash are those: a periodic scan of ids nothing
// changed in is answered with nothing to decode and nothing to look up
// again. Optional trailing field: a node that predates it, or a Known not
// as long as Add, answers every id.
type Interest struct {
	Reset  bool
	Add    []string
	Remove []string
	Known  []VersionHash
}

// VersionHash is a datum's version and content hash (DatumVersion without
// its id).
type VersionHash struct {
	Version uint64
	Hash    uint64
}

func (*Interest) Type() Type { return TypeInterest }

func (m *Interest) AppendBody(dst []byte) []byte {
	dst = appendBool(dst, m.Reset)
	dst = appendStrings(dst, m.Add)
	dst = appendStrings(dst, m.Remove)
	if len(m.Known) > 0 {
		dst = appendUvarint(dst, uint64(len(m.Known)))
		for _, k := range m.Known {
			dst = appendUvarint(dst, k.Version)
			dst = appendUvarint(dst, k.Hash)
		}
	}
	return dst
}

func (m *Interest) Unmarshal(body []byte) error {
	r := newReader(body)
	m.Reset = r.bool("reset")
	m.Add = r.strings("add", m.Add)
	m.Remove = r.strings("remove", m.Remove)
	m.Known = m.Known[:0]
	if r.more() {
		// Kept only when parallel to Add (otherwise answered as without
		// it): the count allocates nothing more than Add did.
		n := r.count("known versions", 2)
		if n == len(m.Add) {
			m.Known = grow(m.Known, n)
		}
		for i := range n {
			k := VersionHash{Version: r.uvarint("known version"), Hash: r.uvarint("known hash")}
			if i < len(m.Known) {
				m.Known[i] = k
			}
		}
	}
	return r.done()
}

// DigestRequest asks a peer for its digest of one slot, restricted to the
// publishers owned by SessionID (empty: all of them).
//
// Sum, when HasSum, is the asker's SlotSum of the same publishers: a peer
// whose own sum is equal answers SlotDigest.Same instead of its entries, so
// a comparison of equal copies costs a few bytes, not a walk of every
// publisher on both sides. Optional trailing field: a peer that predates it
// ignores it and sends its entries.
type DigestRequest struct {
	Slot           uint32
	SessionID      string
	SlotTableEpoch uint64
	HasSum         bool
	Sum            SlotSum
}

func (*DigestRequest) Type() Type { return TypeDigestRequest }

func (m *DigestRequest) AppendBody(dst []byte) []byte {
	dst = appendUvarint(dst, uint64(m.Slot))
	dst = appendString(dst, m.SessionID)
	dst = appendUvarint(dst, m.SlotTableEpoch)
	if m.HasSum {
		dst = appendUvarint(dst, m.Sum.Count)
		dst = appendUvarint(dst, m.Sum.Hash)
	}
	return dst
}

func (m *DigestRequest) Unmarshal(body []byte) error {
	r := newReader(body)
	*m = DigestRequest{Slot: r.uint32v("slot"), SessionID: r.string("session id"), SlotTableEpoch: r.uvarint("slot table epoch")}
	if r.more() {
		m.HasSum = true
		m.Sum = SlotSum{Count: r.uvarint("sum count"), Hash: r.uvarint("sum hash")}
	}
	return r.done()
}

// SlotSum summarises a set of publishers in one fixed-size value: their
// count and the sum (mod 2^64) of PublisherHash over them. Unlike a
// digest it is kept up to date by every write (Add, Sub), on sessions and
// data nodes alike; two sets are equal exactly when their sums are (up to
// hash collisions). A sum, not a XOR: two equal hashes do not cancel.
type SlotSum struct {
	Count uint64
	Hash  uint64
}

// Add counts a publisher of hash h (PublisherHash) in.
func (s *SlotSum) Add(h uint64) { s.Count++; s.Hash += h }

// Sub counts a publisher of hash h out.
func (s *SlotSum) Sub(h uint64) { s.Count--; s.Hash -= h }

// DigestEntry summarises the publishers of one dataInfoId.
type DigestEntry struct {
	DataInfoID string
	Count      uint32
	Hash       uint64 // XOR of PublisherHash over the publishers
}

// SlotDigest answers a DigestRequest. Same reports that the request's Sum
// equals the sender's own (Entries is then empty). Optional trailing
// field, written only when set.
type SlotDigest struct {
	Slot    uint32
	Entries []DigestEntry
	Same    bool
}

func (*SlotDigest) Type() Type { return TypeSlotDigest }

func (m *SlotDigest) AppendBody(dst []byte) []byte {
	dst = appendUvarint(dst, uint64(m.Slot))
	dst = appendUvarint(dst, uint64(len(m.Entries)))
	for _, e := range m.Entries {
		dst = appendString(dst, e.DataInfoID)
		dst = appendUvarint(dst, uint64(e.Count))
		dst = appendUint64(dst, e.Hash)
	}
	if m.Same {
		dst = appendBool(dst, true)
	}
	return dst
}

func (m *SlotDigest) Unmarshal(body []byte) error {
	r := newReader(body)
	m.Slot = r.uint32v("slot")
	n := r.count("digest entries", 10)
	m.Entries = grow(m.Entries, n)
	for i := range m.Entries {
		m.Entries[i] = DigestEntry{DataInfoID: r.string("data info id"), Count: r.uint32v("count"), Hash: r.fixed64("hash")}
	}
	m.Same = r.more() && r.bool("same")
	return r.done()
}

// DiffRequest asks for the publishers of the given dataInfoIds of one slot,
// restricted to SessionID's when set; the reply is a SlotDiff.
type DiffRequest struct {
	Slot        uint32
	SessionID   string
	DataInfoIDs []string
}

func (*DiffRequest) Type() Type { return TypeDiffRequest }

func (m *DiffRequest) AppendBody(dst []byte) []byte {
	dst = appendUvarint(dst, uint64(m.Slot))
	dst = appendString(dst, m.SessionID)
	return appendStrings(dst, m.DataInfoIDs)
}

func (m *DiffRequest) Unmarshal(body []byte) error {
	r := newReader(body)
	m.Slot = r.uint32v("slot")
	m.SessionID = r.string("session id")
	m.DataInfoIDs = r.strings("data info ids", m.DataInfoIDs)
	return r.done()
}

// SlotDiff carries the publishers a DiffRequest asked for. A dataInfoId
// asked for and absent here has no publishers at the sender.
type SlotDiff struct {
	Slot       uint32
	Publishers []Publisher
	// Owners, when set, names the session owning each publisher (parallel
	// to Publishers): a leader answering its follower sends them so the
	// follower keeps per-session ownership. Optional trailing field,
	// followed by another: the publishers' client owners (Publisher.Owner),
	// left out when every one is unknown.
	Owners []string
}

func (*SlotDiff) Type() Type { return TypeSlotDiff }

func (m *SlotDiff) AppendBody(dst []byte) []byte {
	dst = appendUvarint(dst, uint64(m.Slot))
	dst = appendPublishers(dst, m.Publishers)
	clients := appendOwners(nil, len(m.Publishers), func(i int) Owner { return m.Publishers[i].Owner })
	if len(m.Owners) > 0 || len(clients) > 0 {
		dst = appendStrings(dst, m.Owners)
	}
	return append(dst, clients...)
}

func (m *SlotDiff) Unmarshal(body []byte) error {
	r := newReader(body)
	m.Slot = r.uint32v("slot")
	m.Publishers = readPublishers(&r, m.Publishers)
	m.Owners = nil
	if r.more() {
		m.Owners = r.strings("owners", nil)
	}
	readOwners(&r, len(m.Publishers), func(i int, o Owner) { m.Publishers[i].Owner = o })
	return r.done()
}

// SlotAssignment is one slot's replicas.
type SlotAssignment struct {
	ID          uint32
	Leader      string // data node RPC address
	LeaderEpoch uint64 // grows whenever the slot's leader changes
	Followers   []string
}

// SlotTable maps every slot to its data nodes. Nodes apply only a higher Epoch.
type SlotTable struct {
	Epoch uint64
	Slots []SlotAssignment
}

func (*SlotTable) Type() Type { return TypeSlotTable }

func (m *SlotTable) AppendBody(dst []byte) []byte {
	dst = appendUvarint(dst, m.Epoch)
	dst = appendUvarint(dst, uint64(len(m.Slots)))
	for _, s := range m.Slots {
		dst = appendUvarint(dst, uint64(s.ID))
		dst = appendString(dst, s.Leader)
		dst = appendUvarint(dst, s.LeaderEpoch)
		dst = appendStrings(dst, s.Followers)
	}
	return dst
}

func (m *SlotTable) Unmarshal(body []byte) error {
	r := newReader(body)
	m.read(&r)
	return r.done()
}

func (m *SlotTable) read(r *reader) {
	m.Epoch = r.uvarint("slot table epoch")
	n := r.count("slots", 4)
	m.Slots = grow(m.Slots, n)
	for i := range m.Slots {
		s := &m.Slots[i]
		s.ID = r.uint32v("slot id")
		s.Leader = r.string("leader")
		s.LeaderEpoch = r.uvarint("leader epoch")
		s.Followers = r.strings("followers", nil)
	}
}

// Role is a node's role in the cluster.
type Role uint8

const (
	RoleSession Role = 1
	RoleData    Role = 2
	RoleMeta    Role = 3
)

func (r Role) String() string {
	switch r {
	case RoleSession:
		return "session"
	case RoleData:
		return "data"
	case RoleMeta:
		return "meta"
	}
	return "role " + itoa(uint64(r))
}

// LogValue logs a role by name: slog's JSON handler would print the number.
func (r Role) LogValue() slog.Value { return slog.StringValue(r.String()) }

// NodeInfo names a node. ID is unique per process (address and start time),
// so a restarted node is a new node: what the old process owned can be told
// apart and cleaned up.
type NodeInfo struct {
	ID       string
	RPCAddr  string
	HTTPAddr string
}

// NodeHeartbeat registers a node with the meta leader and renews its lease.
// A session also sends one on each link it opens to a data node, so that the
// data node knows which session a connection belongs to.
type NodeHeartbeat struct {
	Role           Role
	Node           NodeInfo
	SlotTableEpoch uint64 // the newest table the node holds
	// Synced lists the slots this data node follows and has caught up with
	// its leader on, so meta promotes only synced followers when it can.
	// Optional trailing field.
	Synced []uint32
	// ConfigEpoch is the epoch of the cluster config (client-off IPs, push
	// switch) the node holds, 0 for none, so meta sends the config only
	// when it differs. Optional trailing field.
	ConfigEpoch uint64
	// Draining says the node is handing its work over before it stops (or
	// on an operator's order): meta gives a draining data node no slots and
	// leaves a draining session out of the session lists clients fetch. The
	// node sends it on every heartbeat, so a new meta leader learns it at
	// once. Optional trailing field.
	Draining bool
	// Load is a session's zone and load (zero for a data node). Optional
	// trailing field, left out when zero.
	Load SessionLoad
	// DataCenter is the node's --datacenter: meta refuses a node of another
	// data center. Optional trailing field, left out when empty (a node
	// that sends none is taken to be of meta's data center).
	DataCenter string
}

func (*NodeHeartbeat) Type() Type { return TypeNodeHeartbeat }

func (m *NodeHeartbeat) AppendBody(dst []byte) []byte {
	dst = append(dst, byte(m.Role))
	dst = appendNode(dst, m.Node)
	dst = appendUvarint(dst, m.SlotTableEpoch)
	dc := m.DataCenter != ""
	load := m.Load != SessionLoad{} || dc
	if len(m.Synced) > 0 || m.ConfigEpoch != 0 || m.Draining || load {
		dst = appendUvarint(dst, uint64(len(m.Synced)))
		for _, s := range m.Synced {
			dst = appendUvarint(dst, uint64(s))
		}
	}
	if m.ConfigEpoch != 0 || m.Draining || load {
		dst = appendUvarint(dst, m.ConfigEpoch)
	}
	if m.Draining || load {
		dst = appendBool(dst, m.Draining)
	}
	if load {
		dst = m.Load.append(dst)
	}
	if dc {
		dst = appendString(dst, m.DataCenter)
	}
	return dst
}

func (m *NodeHeartbeat) Unmarshal(body []byte) error {
	r := newReader(body)
	*m = NodeHeartbeat{
		Role:           Role(r.byte1("role")),
		Node:           readNode(&r),
		SlotTableEpoch: r.uvarint("slot table epoch"),
	}
	if r.more() {
		if n := r.count("synced slots", 1); n > 0 {
			m.Synced = make([]uint32, n)
		}
		for i := range m.Synced {
			m.Synced[i] = r.uint32v("synced slot")
		}
	}
	if r.more() {
		m.ConfigEpoch = r.uvarint("config epoch")
	}
	if r.more() {
		m.Draining = r.bool("draining")
	}
	if r.more() {
		m.Load.read(&r)
	}
	if r.more() {
		// Not validated beyond its length: meta compares it with its own
		// name, and any other name is refused there.
		m.DataCenter = r.boundedString("data center", MaxDataCenterLen)
	}
	return r.done()
}

// NodeHeartbeatReply renews a lease and brings the node up to date. SlotTable
// is nil when the node already holds the current epoch. A meta node that does
// not lead answers with a Result of CodeNotLeader and the leader in Hint.
type NodeHeartbeatReply struct {
	MetaEpoch uint64 // the leader's lease epoch; nodes reject lower ones
	LeaseMs   uint32
	SlotTable *SlotTable
	Sessions  []NodeInfo
	DataNodes []NodeInfo
	// ConfigEpoch, when not 0, says the reply carries the cluster config
	// (ClientOff and PushStopped): meta sends it only to a node whose
	// NodeHeartbeat.ConfigEpoch differs. Optional trailing fields.
	ConfigEpoch uint64
	ClientOff   []string // client IPs whose publishers are held back
	PushStopped bool     // pushes to clients are stopped cluster-wide
	// Draining lists the IDs of the session and data nodes that said they
	// are draining: a session leaves them out of the session list it gives
	// clients. Optional trailing field, after the config fields (sent with
	// ConfigEpoch 0 when the config is not).
	Draining []string
	// Order, when not DrainNone, is an operator's drain order for the node
	// that sent the heartbeat; meta repeats it until the node's heartbeats
	// show it obeyed. Optional trailing field.
	Order DrainOrder
	// ACL is the client credentials, part of the cluster config (sent with
	// it). Optional trailing field, left out when empty (and Ops is).
	ACL ACL
	// Ops is the operators' lists, part of the cluster config (sent with
	// it, to sessions). Optional trailing field, left out when empty.
	Ops Ops
	// Loads, to sessions, is the load of each of Sessions (the same
	// length and order), from their own heartbeats. Optional trailing
	// field, left out when empty; with it the fields before it are
	// written even when empty (ACL and Ops count only with ConfigEpoch).
	// It is written empty (a count of 0) when RemoteDCs follows.
	Loads []SessionLoad
	// RemoteDCs, to data nodes whose heartbeats name their data center
	// (older ones would not decode it: Loads written empty), is the data
	// centers this cluster links to, part of the cluster config (sent with
	// it). Optional trailing field, left out when empty.
	RemoteDCs []RemoteDC
}

// DrainOrder is an operator's order to a node, carried by a heartbeat reply.
type DrainOrder uint8

const (
	DrainNone   DrainOrder = 0
	DrainStart  DrainOrder = 1 // start draining and stay drained
	DrainCancel DrainOrder = 2 // stop draining: take work again
)

func (*NodeHeartbeatReply) Type() Type { return TypeNodeHeartbeatReply }

func (m *NodeHeartbeatReply) AppendBody(dst []byte) []byte {
	dst = appendUvarint(dst, m.MetaEpoch)
	dst = appendUvarint(dst, uint64(m.LeaseMs))
	dst = appendBool(dst, m.SlotTable != nil)
	if m.SlotTable != nil {
		dst = m.SlotTable.AppendBody(dst)
	}
	dst = appendNodes(dst, m.Sessions)
	dst = appendNodes(dst, m.DataNodes)
	dcs := m.ConfigEpoch != 0 && len(m.RemoteDCs) > 0
	loads := len(m.Loads) > 0 || dcs
	ops := m.ConfigEpoch != 0 && !m.Ops.empty() || loads
	acl := m.ConfigEpoch != 0 && !m.ACL.empty() || ops
	drain := len(m.Draining) > 0 || m.Order != DrainNone || acl
	if m.ConfigEpoch != 0 || drain {
		dst = appendUvarint(dst, m.ConfigEpoch)
		dst = appendStrings(dst, m.ClientOff)
		dst = appendBool(dst, m.PushStopped)
	}
	if drain {
		dst = appendStrings(dst, m.Draining)
		dst = append(dst, byte(m.Order))
	}
	if acl {
		dst = m.ACL.append(dst)
	}
	if ops {
		dst = m.Ops.append(dst)
	}
	if loads {
		dst = appendUvarint(dst, uint64(len(m.Loads)))
		for i := range m.Loads {
			dst = m.Loads[i].append(dst)
		}
	}
	if dcs {
		dst = appendRemoteDCs(dst, m.RemoteDCs)
	}
	return dst
}

func (m *NodeHeartbeatReply) Unmarshal(body []byte) error {
	r := newReader(body)
	m.MetaEpoch = r.uvarint("meta epoch")
	m.LeaseMs = r.uint32v("lease")
	m.SlotTable = nil
	if r.bool("has slot table") {
		m.SlotTable = new(SlotTable)
		m.SlotTable.read(&r)
	}
	m.Sessions = readNodes(&r, m.Sessions)
	m.DataNodes = readNodes(&r, m.DataNodes)
	m.ConfigEpoch, m.ClientOff, m.PushStopped = 0, nil, false
	m.Draining, m.Order, m.ACL, m.Ops, m.Loads, m.RemoteDCs = nil, DrainNone, ACL{}, Ops{}, nil, nil
	if r.more() {
		m.ConfigEpoch = r.uvarint("config epoch")
		m.ClientOff = r.strings("client-off ips", nil)
		m.PushStopped = r.bool("push stopped")
	}
	if r.more() {
		m.Draining = r.strings("draining nodes", nil)
		m.Order = DrainOrder(r.byte1("drain order"))
		if m.Order > DrainCancel {
			r.fail("drain order")
		}
	}
	if r.more() {
		m.ACL.read(&r)
	}
	if r.more() {
		m.Ops.read(&r)
	}
	if r.more() {
		// 0: none (written only because RemoteDCs follows).
		n := r.count("session loads", minSessionLoadSize)
		if n != 0 && n != len(m.Sessions) {
			r.fail("session loads")
			return r.done()
		}
		if n > 0 {
			m.Loads = make([]SessionLoad, n)
		}
		for i := range m.Loads {
			m.Loads[i].read(&r)
		}
	}
	if r.more() {
		m.RemoteDCs = readRemoteDCs(&r)
	}
	return r.done()
}

func appendNodes(dst []byte, ns []NodeInfo) []byte {
	dst = appendUvarint(dst, uint64(len(ns)))
	for _, n := range ns {
		dst = appendNode(dst, n)
	}
	return dst
}

func appendNode(dst []byte, n NodeInfo) []byte {
	dst = appendString(dst, n.ID)
	dst = appendString(dst, n.RPCAddr)
	return appendString(dst, n.HTTPAddr)
}

func readNode(r *reader) NodeInfo {
	return NodeInfo{ID: r.string("node id"), RPCAddr: r.string("rpc address"), HTTPAddr: r.string("http address")}
}

func readNodes(r *reader, dst []NodeInfo) []NodeInfo {
	n := r.count("nodes", 3)
	dst = grow(dst, n)
	for i := range dst {
		dst[i] = readNode(r)
	}
	return dst
}
