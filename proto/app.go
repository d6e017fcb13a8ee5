package proto

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// App-level service discovery (Dubbo 3 style): an application instance
// publishes one record, its address and a revision, on the dataInfoId of its
// application (AppDataInfoID). The revision names an AppRevision, stored once
// by meta, that lists the interfaces the application serves. Sessions
// resolve subscribers of an interface to the instances of every
// application whose revision lists it.

// AppGroup is the group reserved for application records; interfaces of an
// AppRevision may not be in it, so an application datum never serves as an
// interface.
const AppGroup = "ROSTER_APP"

// AppRevisionAttr is the publisher attribute that carries an application
// instance's revision.
const AppRevisionAttr = "revision"

// AppDataInfoID is the dataInfoId of application app's instance records.
func AppDataInfoID(app string) string {
	return app + "#@#DEFAULT_INSTANCE_ID#@#" + AppGroup
}

// AppService is one interface an application serves: Interface is its
// dataInfoId; Params (sorted by key) are appended to the instance address as
// a query when the instance is pushed to the interface's subscribers.
type AppService struct {
	Interface string
	Params    []Attr
}

// AppRevision is an application's metadata record. Revision is AppRevisionOf
// the other fields, so equal instances share one record and a record never
// changes. A client registers it with its session before publishing an
// instance (reply: Result); the session forwards it to the meta leader; meta
// also answers AppQuery with it.
type AppRevision struct {
	Revision string
	App      string
	Services []AppService // sorted by Interface, without duplicates
}

func (*AppRevision) Type() Type { return TypeAppRevision }

func (m *AppRevision) AppendBody(dst []byte) []byte {
	dst = appendString(dst, m.Revision)
	return m.appendContent(dst)
}

// appendContent encodes everything but the revision: what the revision hashes.
func (m *AppRevision) appendContent(dst []byte) []byte {
	dst = appendString(dst, m.App)
	dst = appendUvarint(dst, uint64(len(m.Services)))
	for _, s := range m.Services {
		dst = appendString(dst, s.Interface)
		dst = appendUvarint(dst, uint64(len(s.Params)))
		for _, a := range s.Params {
			dst = appendString(dst, a.Key)
			dst = appendString(dst, a.Value)
		}
	}
	return dst
}

func (m *AppRevision) Unmarshal(body []byte) error {
	r := newReader(body)
	m.read(&r)
	return r.done()
}

func (m *AppRevision) read(r *reader) {
	m.Revision = r.string("revision")
	m.App = r.string("app name")
	m.Services = grow(m.Services, r.count("services", 2))
	for i := range m.Services {
		s := &m.Services[i]
		s.Interface = r.string("interface")
		s.Params = grow(s.Params, r.count("params", 2))
		for j := range s.Params {
			s.Params[j] = Attr{Key: r.string("param key"), Value: r.string("param value")}
		}
	}
}

// AppRevisionOf returns the revision of an application's metadata: a content
// hash (hex SHA-256, 128 bits), the same for the same app and services in the
// same order.
func AppRevisionOf(app string, services []AppService) string {
	m := AppRevision{App: app, Services: services}
	sum := sha256.Sum256(m.appendContent(nil))
	return hex.EncodeToString(sum[:16])
}

// Service returns the service of m for an interface, or nil.
// Clone returns a copy of m that shares no memory with it: decoded strings
// are substrings of their frame, and a record kept for long must not keep
// the frame it came in (or a reply of many records) alive.
func (m *AppRevision) Clone() AppRevision {
	var c AppRevision
	_ = c.Unmarshal(m.AppendBody(nil)) // its own encoding always decodes
	return c
}

func (m *AppRevision) Service(iface string) *AppService {
	lo, hi := 0, len(m.Services)
	for lo < hi { // Services are sorted: binary search
		mid := (lo + hi) / 2
		switch s := m.Services[mid].Interface; {
		case s == iface:
			return &m.Services[mid]
		case s < iface:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return nil
}

// AppQuery asks the meta leader for revisions and for the applications that
// serve interfaces (session → meta); the answer is an AppQueryReply.
type AppQuery struct {
	Revisions  []string
	Interfaces []string // dataInfoIds
	// Known (optional) is the index version of the asker's last complete
	// answer for every interface it watches. When the index is still at it,
	// the reply says Unchanged and looks up none of Interfaces: a session
	// asks for all of them each scan, and at 10M that was 100k lookups a
	// session every 5 s, for an index that changes only when an
	// application registers a new revision.
	Known AppIndexVersion
}

// AppIndexVersion names a state of meta's application index: the lease
// epoch of the leader that answered, and the changes it has made to
// interface entries. A new leadership starts with a new epoch, so equal
// versions (Epoch not 0) mean the same answer for every interface.
type AppIndexVersion struct {
	Epoch, Changes uint64
}

func (*AppQuery) Type() Type { return TypeAppQuery }

func (m *AppQuery) AppendBody(dst []byte) []byte {
	dst = appendStrings(dst, m.Revisions)
	dst = appendStrings(dst, m.Interfaces)
	if m.Known.Epoch != 0 { // an optional trailing field: older metas ignore it
		dst = appendUvarint(dst, m.Known.Epoch)
		dst = appendUvarint(dst, m.Known.Changes)
	}
	return dst
}

func (m *AppQuery) Unmarshal(body []byte) error {
	r := newReader(body)
	m.Revisions = r.strings("revisions", m.Revisions)
	m.Interfaces = r.strings("interfaces", m.Interfaces)
	m.Known = AppIndexVersion{}
	if r.more() {
		m.Known = AppIndexVersion{Epoch: r.uvarint("known epoch"), Changes: r.uvarint("known changes")}
	}
	return r.done()
}

// AppIndexEntry lists the applications serving one interface.
type AppIndexEntry struct {
	Interface string
	Apps      []string
}

// AppQueryReply answers an AppQuery: the revisions found (unknown ones are
// left out) and one index entry per interface asked (Apps empty when none),
// but none when Unchanged.
type AppQueryReply struct {
	Revisions []AppRevision
	Index     []AppIndexEntry
	// Version is the index's version the entries were read at (0: a meta of
	// an older version, which sends none).
	Version AppIndexVersion
	// Unchanged: the index is at the query's Known version; the interfaces
	// asked were not looked up.
	Unchanged bool
}

func (*AppQueryReply) Type() Type { return TypeAppQueryReply }

func (m *AppQueryReply) AppendBody(dst []byte) []byte {
	dst = appendUvarint(dst, uint64(len(m.Revisions)))
	for i := range m.Revisions {
		dst = m.Revisions[i].AppendBody(dst)
	}
	dst = appendUvarint(dst, uint64(len(m.Index)))
	for _, e := range m.Index {
		dst = appendString(dst, e.Interface)
		dst = appendStrings(dst, e.Apps)
	}
	if m.Version.Epoch != 0 { // optional trailing fields: older sessions ignore them
		dst = appendUvarint(dst, m.Version.Epoch)
		dst = appendUvarint(dst, m.Version.Changes)
		var flags uint64 // a uvarint: bits a later version adds are ignored here
		if m.Unchanged {
			flags |= 1
		}
		dst = appendUvarint(dst, flags)
	}
	return dst
}

func (m *AppQueryReply) Unmarshal(body []byte) error {
	r := newReader(body)
	return m.decode(&r)
}

// UnmarshalOwned is Unmarshal of a reply's body handed over for good, as
// Datum.UnmarshalOwned: the decoded strings point into body. A session asks
// for every interface it watches each scan, and the copy Unmarshal makes was
// most of what an idle session allocated there; what it keeps, it clones.
func (m *AppQueryReply) UnmarshalOwned(body []byte) error {
	r := ownedReader(body)
	return m.decode(&r)
}

func (m *AppQueryReply) decode(r *reader) error {
	m.Revisions = grow(m.Revisions, r.count("revisions", 3))
	for i := range m.Revisions {
		m.Revisions[i].read(r)
	}
	m.Index = grow(m.Index, r.count("index entries", 2))
	for i := range m.Index {
		e := &m.Index[i]
		e.Interface = r.string("interface")
		e.Apps = r.strings("apps", nil)
	}
	m.Version, m.Unchanged = AppIndexVersion{}, false
	if r.more() {
		m.Version = AppIndexVersion{Epoch: r.uvarint("index epoch"), Changes: r.uvarint("index changes")}
		m.Unchanged = r.uvarint("reply flags")&1 != 0
	}
	return r.done()
}

// Limits of an AppRevision that Check enforces.
const (
	MaxAppServices = 4096 // interfaces of one application
	MaxAppParams   = 64   // params of one interface
)

// Check reports why m must not be stored: a revision that is not the hash
// of its content, an empty or oversized name, interfaces unsorted, repeated,
// or in AppGroup, or too many of them or of their params.
func (m *AppRevision) Check() error {
	bad := func(why string) error {
		return fmt.Errorf("cannot accept app revision %q: %s: %w", m.Revision, why, ErrInvalidAppRevision)
	}
	switch {
	case m.App == "" || len(m.App) > MaxIDLen:
		return bad("app name empty or too long")
	case len(m.Services) == 0 || len(m.Services) > MaxAppServices:
		return bad(fmt.Sprintf("%d services, want 1 to %d", len(m.Services), MaxAppServices))
	}
	for i, s := range m.Services {
		switch {
		case s.Interface == "" || len(s.Interface) > MaxIDLen:
			return bad("interface empty or too long")
		case i > 0 && s.Interface <= m.Services[i-1].Interface:
			return bad("interfaces not sorted or repeated")
		case strings.HasSuffix(s.Interface, "#@#"+AppGroup):
			return bad("interface in the reserved group " + AppGroup)
		case len(s.Params) > MaxAppParams:
			return bad(fmt.Sprintf("%d params of %s, limit %d", len(s.Params), s.Interface, MaxAppParams))
		}
	}
	if m.Revision != AppRevisionOf(m.App, m.Services) {
		return bad("revision is not the hash of the record")
	}
	return nil
}
