package proto

// PushPublisher is one publisher as subscribers see it.
type PushPublisher struct {
	RegisterID string
	Zone       string
	Version    uint64
	Data       []string
	// Attrs are the publisher's attributes, nil when it has none. They
	// change only with Version, so ListHash needs not cover them. Sent
	// only to clients of VersionAttrs (Push.WithAttrs).
	Attrs []Attr
	// DataCenter is the data center the publisher registered in: "" in a
	// session's lists for its own, the name for one imported from a linked
	// data center. Sent in pushes to global subscribers of clients of
	// VersionDataCenters (Push.WithDataCenters), every entry named.
	DataCenter string
}

// Push delivers a datum to a client. It names no subscriber: the client
// applies it to each of its subscribers of DataInfoID whose zone filter equals
// Zone, so the same body serves every connection that needs it.
//
// A full push (BaseVersion 0) carries every publisher. A delta push carries
// the publishers added or changed since BaseVersion and the RegisterIDs
// removed; the client applies it only when its list is at BaseVersion, and
// checks Count and Hash (ListHash of the resulting list) afterwards. On any
// mismatch it acks with Resync and receives a full push.
type Push struct {
	DataInfoID  string
	Zone        string // "" for every zone (dataCenter/global scope)
	Version     uint64
	BaseVersion uint64
	Publishers  []PushPublisher
	Removed     []string
	Count       uint32
	Hash        uint64
	// WithAttrs writes the publishers' attributes, an optional trailing
	// part that a client older than VersionAttrs would refuse (a push
	// with many attributes is over MaxTrailingBytes), so only clients that
	// negotiated VersionAttrs get it. The part is written only when a
	// publisher has attributes; a decoded push has WithAttrs when its body
	// carried the part.
	WithAttrs bool
	// WithDataCenters writes every publisher's DataCenter: an optional part
	// after the attributes part (which is then written, empty if need be),
	// sent only to clients of VersionDataCenters, in pushes to their global
	// subscribers (Zone GlobalZone). The names are a dictionary, then one
	// index per publisher.
	WithDataCenters bool
}

// GlobalZone is the Zone of the pushes to global subscribers of clients of
// VersionDataCenters: their lists hold the publishers of every linked data
// center, each named (Push.WithDataCenters), while the pushes to
// dataCenter subscribers (Zone "") hold this data center's only. A real
// zone never equals it: zone names have no control characters.
const GlobalZone = "\x00global"

func (*Push) Type() Type { return TypePush }

// Full reports whether the push carries the whole list.
func (m *Push) Full() bool { return m.BaseVersion == 0 }

func (m *Push) AppendBody(dst []byte) []byte {
	dst = appendString(dst, m.DataInfoID)
	dst = appendString(dst, m.Zone)
	dst = appendUvarint(dst, m.Version)
	dst = appendUvarint(dst, m.BaseVersion)
	dst = appendUvarint(dst, uint64(len(m.Publishers)))
	for i := range m.Publishers {
		p := &m.Publishers[i]
		dst = appendString(dst, p.RegisterID)
		dst = appendString(dst, p.Zone)
		dst = appendUvarint(dst, p.Version)
		dst = appendStrings(dst, p.Data)
	}
	dst = appendStrings(dst, m.Removed)
	dst = appendUvarint(dst, uint64(m.Count))
	dst = appendUint64(dst, m.Hash)
	if !m.WithAttrs && !m.WithDataCenters || !HasAttrs(m.Publishers) && !m.WithDataCenters {
		return dst
	}
	// The attributes part: the number of publishers with attributes, then
	// each one's index in Publishers (increasing) and its attributes.
	// Sparse, so that publishers without attributes cost nothing.
	k := 0
	for i := range m.Publishers {
		if m.WithAttrs && len(m.Publishers[i].Attrs) > 0 {
			k++
		}
	}
	dst = appendUvarint(dst, uint64(k))
	for i := range m.Publishers {
		if !m.WithAttrs {
			break // written empty, ahead of the data centers
		}
		attrs := m.Publishers[i].Attrs
		if len(attrs) == 0 {
			continue
		}
		dst = appendUvarint(dst, uint64(i))
		dst = appendUvarint(dst, uint64(len(attrs)))
		for _, a := range attrs {
			dst = appendString(dst, a.Key)
			dst = appendString(dst, a.Value)
		}
	}
	if m.WithDataCenters {
		dst = m.appendDataCenters(dst)
	}
	return dst
}

// HasAttrs reports whether a publisher of ps has attributes.
func HasAttrs(ps []PushPublisher) bool {
	for i := range ps {
		if len(ps[i].Attrs) > 0 {
			return true
		}
	}
	return false
}

func (m *Push) Unmarshal(body []byte) error {
	r := newReader(body)
	m.DataInfoID = r.string("data info id")
	m.Zone = r.string("zone")
	m.Version = r.uvarint("version")
	m.BaseVersion = r.uvarint("base version")
	n := r.count("publishers", 4)
	m.Publishers = grow(m.Publishers, n) // cleared: no attributes of a previous push
	arena := make([]string, 0, n)
	for i := range m.Publishers {
		p := &m.Publishers[i]
		p.RegisterID = r.string("register id")
		p.Zone = r.string("zone")
		p.Version = r.uvarint("version")
		p.Data = r.stringsFrom("data", &arena)
	}
	m.Removed = r.strings("removed", m.Removed)
	m.Count = r.uint32v("count")
	m.Hash = r.fixed64("hash")
	m.WithAttrs = r.more()
	if m.WithAttrs {
		m.readAttrs(&r)
	}
	m.WithDataCenters = r.more() && r.s[r.off] == pushDataCentersMark
	if m.WithDataCenters {
		r.off++
		m.readDataCenters(&r)
	}
	return r.done()
}

// pushDataCentersMark opens the data centers part: bytes after the
// attributes part that do not start with it are a later field, ignored.
const pushDataCentersMark = 0xdc

// appendDataCenters writes the data centers part: the distinct names, in
// order of first appearance, then each publisher's index among them.
func (m *Push) appendDataCenters(dst []byte) []byte {
	dst = append(dst, pushDataCentersMark)
	names := m.dataCenterNames()
	dst = appendStrings(dst, names)
	for i := range m.Publishers {
		dst = appendUvarint(dst, uint64(indexOf(names, m.Publishers[i].DataCenter)))
	}
	return dst
}

func (m *Push) dataCenterNames() []string {
	var names []string
	for i := range m.Publishers {
		if dc := m.Publishers[i].DataCenter; indexOf(names, dc) < 0 {
			names = append(names, dc)
		}
	}
	return names
}

func indexOf(names []string, s string) int {
	for i, n := range names {
		if n == s {
			return i
		}
	}
	return -1
}

// readDataCenters reads the data centers part (see appendDataCenters).
func (m *Push) readDataCenters(r *reader) {
	names := r.strings("data centers", nil)
	if len(names) > MaxRemoteDCs+1 || len(names) == 0 && len(m.Publishers) > 0 {
		r.fail("data centers")
		return
	}
	for i := range m.Publishers {
		k := r.uvarint("data center index")
		if k >= uint64(len(names)) {
			r.fail("data center index")
			return
		}
		m.Publishers[i].DataCenter = names[k]
	}
}

// readAttrs reads the attributes part (see AppendBody) into the
// publishers, within the limits a session enforces on a publisher.
func (m *Push) readAttrs(r *reader) {
	k := r.count("attributed publishers", 3)
	if k == 0 && !r.more() {
		// Written empty only ahead of the data centers part: a cut push.
		r.fail("attributed publishers")
		return
	}
	if k > len(m.Publishers) {
		r.fail("attributed publishers")
		return
	}
	arena := make([]Attr, 0, k)
	next := 0 // the lowest index the next entry may have
	for ; k > 0 && r.err == nil; k-- {
		i := r.uvarint("attributed publisher")
		if i < uint64(next) || i >= uint64(len(m.Publishers)) {
			r.fail("attributed publisher")
			return
		}
		next = int(i) + 1
		n := r.count("attributes", 2)
		if n == 0 || n > MaxAttrs {
			r.fail("attributes")
			return
		}
		start, size := len(arena), 0
		for ; n > 0; n-- {
			a := Attr{Key: r.string("attribute key"), Value: r.string("attribute value")}
			size += len(a.Key) + len(a.Value)
			arena = append(arena, a)
		}
		if size > MaxAttrsBytes {
			r.fail("attributes")
			return
		}
		m.Publishers[i].Attrs = arena[start:len(arena):len(arena)]
	}
}

// PublisherHash is one publisher's contribution to ListHash. It depends only
// on the register id and version, so it can be kept up to date incrementally.
func PublisherHash(registerID string, version uint64) uint64 {
	// FNV-1a: stable across processes, unlike maphash with a random seed.
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(registerID); i++ {
		h ^= uint64(registerID[i])
		h *= prime
	}
	for i := 0; i < 8; i++ {
		h ^= version & 0xff
		h *= prime
		version >>= 8
	}
	return h
}

// ListHash is the order-independent hash of a publisher list (the XOR of
// PublisherHash of every entry), carried by pushes and digests.
func ListHash(ps []PushPublisher) uint64 {
	var h uint64
	for i := range ps {
		h ^= PublisherHash(ps[i].RegisterID, ps[i].Version)
	}
	return h
}

// Hash is the ListHash of the datum's publishers, Remote's included.
func (m *Datum) Hash() uint64 {
	var h uint64
	for i := range m.Publishers {
		h ^= PublisherHash(m.Publishers[i].RegisterID, m.Publishers[i].Version)
	}
	for _, seg := range m.Remote {
		for i := range seg.Publishers {
			h ^= PublisherHash(seg.Publishers[i].RegisterID, seg.Publishers[i].Version)
		}
	}
	return h
}

// PushAck acknowledges a push. Resync asks for a full push instead (the
// client could not apply a delta, or did not take the push: see Held).
type PushAck struct {
	DataInfoID string
	Zone       string
	Version    uint64
	Resync     bool
	// Held, with Resync, is the version of the list the client holds when
	// it did not take the push because that list is at least as new and
	// differs: a registry that lost the datum (a restart) hands out older
	// versions. The session must send the full list above Held. Optional
	// trailing field: 0 is not written.
	Held uint64
}

func (*PushAck) Type() Type { return TypePushAck }

func (m *PushAck) AppendBody(dst []byte) []byte {
	dst = appendString(dst, m.DataInfoID)
	dst = appendString(dst, m.Zone)
	dst = appendUvarint(dst, m.Version)
	dst = appendBool(dst, m.Resync)
	if m.Held != 0 {
		dst = appendUvarint(dst, m.Held)
	}
	return dst
}

func (m *PushAck) Unmarshal(body []byte) error {
	r := newReader(body)
	return m.decode(&r)
}

// UnmarshalBorrowed is Unmarshal whose strings point into body, for a
// caller that keeps none of them once it is done with body: a session's
// ack handler looks the ack up and drops it (push.Engine.Ack keeps nothing
// of it). Unmarshal's copy of the body, one per push acknowledged, was a
// fifth of what a session allocated in a storm. The caller must not write
// body while it uses m's strings.
func (m *PushAck) UnmarshalBorrowed(body []byte) error {
	r := ownedReader(body)
	return m.decode(&r)
}

func (m *PushAck) decode(r *reader) error {
	*m = PushAck{
		DataInfoID: r.string("data info id"),
		Zone:       r.string("zone"),
		Version:    r.uvarint("version"),
		Resync:     r.bool("resync"),
	}
	if r.more() {
		m.Held = r.uvarint("held version")
	}
	return r.done()
}
