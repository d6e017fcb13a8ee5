package proto

// ProtocolVersion is the highest protocol version this build speaks.
const ProtocolVersion = VersionDataCenters

// Protocol versions, each what it added.
const (
	// VersionHeld: a client acknowledges a push it did not take because it
	// holds a newer list with Resync and PushAck.Held, and the session
	// pushes above it (a session of version 1 would push the same list
	// again at once, and again); Subscriber.Held, Datum.SettleMs.
	VersionHeld = 2
	// VersionAttrs: pushes carry the publishers' attributes
	// (Push.WithAttrs).
	VersionAttrs = 3
	// VersionTemporary: temporary publications (TemporaryPublisher from
	// the client, TemporaryPush to it; see temporary.go). A session sends
	// a TemporaryPush only to clients of this version, and the SDK sends a
	// TemporaryPublisher only to sessions of it.
	VersionTemporary = 4
	// VersionDataCenters: global subscribers see the publishers of every
	// linked data center, in pushes of Zone GlobalZone that name each
	// publisher's data center (Push.WithDataCenters). A client of an older
	// version gets its global subscribers the dataCenter view.
	VersionDataCenters = 5
)

// Encoding is a bit set of body compressions a peer can decode.
type Encoding uint8

const (
	EncodingZstd Encoding = 1 << 0
	EncodingS2   Encoding = 1 << 1
)

// Handshake is the first frame a client sends on a connection.
type Handshake struct {
	Version   uint16 // highest protocol version the client speaks
	ClientID  string // unique per client process, stable across reconnects
	AppName   string
	Zone      string
	Encodings Encoding // compressions the client accepts on pushes
	Token     string   // optional: the session's shared client token, or an application credential's token
	// Secret proves the client is the one that registered its registerIds
	// before (see Owner): the SDK draws one per process and sends it on
	// every connection. Optional trailing field; at most MaxSecretLen bytes.
	Secret string
}

// MaxSecretLen bounds Handshake.Secret.
const MaxSecretLen = 256

func (*Handshake) Type() Type { return TypeHandshake }

func (m *Handshake) AppendBody(dst []byte) []byte {
	dst = appendUvarint(dst, uint64(m.Version))
	dst = appendString(dst, m.ClientID)
	dst = appendString(dst, m.AppName)
	dst = appendString(dst, m.Zone)
	dst = append(dst, byte(m.Encodings))
	dst = appendString(dst, m.Token)
	if m.Secret != "" {
		dst = appendString(dst, m.Secret)
	}
	return dst
}

func (m *Handshake) Unmarshal(body []byte) error {
	r := newReader(body)
	v := r.uvarint("handshake version")
	if v > 1<<16-1 {
		r.fail("handshake version")
	}
	*m = Handshake{
		Version:   uint16(v),
		ClientID:  r.string("client id"),
		AppName:   r.string("app name"),
		Zone:      r.string("zone"),
		Encodings: Encoding(r.byte1("encodings")),
		Token:     r.string("token"),
	}
	if r.more() {
		m.Secret = r.string("secret")
		if len(m.Secret) > MaxSecretLen {
			r.fail("secret")
		}
	}
	return r.done()
}

// HandshakeReply accepts a handshake; a refusal is a Result instead.
type HandshakeReply struct {
	Version     uint16 // negotiated: the lower of both sides
	ServerID    string
	Encodings   Encoding // compressions the server will use, a subset of the client's
	HeartbeatMs uint32   // how often the client should send a Heartbeat
	IdleMs      uint32   // the server closes a connection silent for this long
}

func (*HandshakeReply) Type() Type { return TypeHandshakeReply }

func (m *HandshakeReply) AppendBody(dst []byte) []byte {
	dst = appendUvarint(dst, uint64(m.Version))
	dst = appendString(dst, m.ServerID)
	dst = append(dst, byte(m.Encodings))
	dst = appendUvarint(dst, uint64(m.HeartbeatMs))
	return appendUvarint(dst, uint64(m.IdleMs))
}

func (m *HandshakeReply) Unmarshal(body []byte) error {
	r := newReader(body)
	v := r.uvarint("handshake version")
	if v > 1<<16-1 {
		r.fail("handshake version")
	}
	*m = HandshakeReply{
		Version:     uint16(v),
		ServerID:    r.string("server id"),
		Encodings:   Encoding(r.byte1("encodings")),
		HeartbeatMs: r.uint32v("heartbeat interval"),
		IdleMs:      r.uint32v("idle timeout"),
	}
	return r.done()
}

// Heartbeat keeps a connection alive; the peer answers with a Heartbeat reply.
type Heartbeat struct {
	UnixMs int64
}

func (*Heartbeat) Type() Type { return TypeHeartbeat }

func (m *Heartbeat) AppendBody(dst []byte) []byte { return appendVarint(dst, m.UnixMs) }

func (m *Heartbeat) Unmarshal(body []byte) error {
	r := newReader(body)
	m.UnixMs = r.varint("heartbeat time")
	return r.done()
}

// Code is a result code carried by Result.
type Code uint16

// Result codes. Numbers are part of the wire contract.
const (
	CodeOK           Code = 0
	CodeBadRequest   Code = 1 // the request is malformed or invalid; do not retry
	CodeUnauthorized Code = 2 // wrong or missing token
	CodeNotLeader    Code = 3 // this node does not lead the slot; Hint names the leader if known
	CodeUnknownType  Code = 4 // message type not understood by this peer
	CodeInternal     Code = 5
	CodeUnavailable  Code = 6 // retry later, possibly elsewhere
	CodeRateLimited  Code = 7
	CodeTooLarge     Code = 8
	CodeStaleEpoch   Code = 9  // the sender's epoch is lower than the receiver's
	CodeNoHandshake  Code = 10 // a request arrived before the handshake
	CodeStaleVersion Code = 11 // a register lost to a newer version; Hint is the version held
	CodeForbidden    Code = 12 // the client's credential lacks the permission; the message names it
	CodeOwned        Code = 13 // the registerId belongs to another client (see Owner)
)

var codeNames = [...]string{"ok", "bad request", "unauthorized", "not leader", "unknown message type",
	"internal error", "unavailable", "rate limited", "too large", "stale epoch", "no handshake", "stale version",
	"forbidden", "registerId owned by another client"}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "code " + itoa(uint64(c))
}

// Result answers a request: CodeOK or an error with a message.
type Result struct {
	Code    Code
	Message string
	Hint    string // e.g. the leader's address for CodeNotLeader
}

func (*Result) Type() Type { return TypeResult }

func (m *Result) AppendBody(dst []byte) []byte {
	dst = appendUvarint(dst, uint64(m.Code))
	dst = appendString(dst, m.Message)
	return appendString(dst, m.Hint)
}

func (m *Result) Unmarshal(body []byte) error {
	r := newReader(body)
	c := r.uvarint("result code")
	if c > 1<<16-1 {
		r.fail("result code")
	}
	*m = Result{Code: Code(c), Message: r.string("result message"), Hint: r.string("result hint")}
	return r.done()
}

// Error returns the result as text; it lets a Result be used as an error.
func (m *Result) Error() string {
	if m.Message == "" {
		return m.Code.String()
	}
	return m.Code.String() + ": " + m.Message
}

// Attr is one publisher attribute.
type Attr struct {
	Key, Value string
}

// Publisher registers (or re-registers) one publisher. Clients fill the
// identity, data and version; the session stamps ClientIP, Zone default and
// RegisterTimestamp before forwarding it to data nodes.
type Publisher struct {
	DataInfoID        string
	RegisterID        string
	Data              []string
	Zone              string
	AppName           string
	ClientIP          string
	Attrs             []Attr
	Version           uint64 // client counter, +1 on every republish
	RegisterTimestamp int64  // unix ms, stamped by the session
	// Owner is the owning client, set by the session; not part of this
	// message's encoding (see Owner).
	Owner Owner
}

func (*Publisher) Type() Type { return TypePublisher }

func (m *Publisher) AppendBody(dst []byte) []byte {
	dst = appendString(dst, m.DataInfoID)
	dst = appendString(dst, m.RegisterID)
	dst = appendStrings(dst, m.Data)
	dst = appendString(dst, m.Zone)
	dst = appendString(dst, m.AppName)
	dst = appendString(dst, m.ClientIP)
	dst = appendUvarint(dst, uint64(len(m.Attrs)))
	for _, a := range m.Attrs {
		dst = appendString(dst, a.Key)
		dst = appendString(dst, a.Value)
	}
	dst = appendUvarint(dst, m.Version)
	return appendVarint(dst, m.RegisterTimestamp)
}

func (m *Publisher) Unmarshal(body []byte) error {
	r := newReader(body)
	m.read(&r)
	return r.done()
}

func (m *Publisher) read(r *reader) { m.readInto(r, nil) }

// readInto reads a publisher; with an arena its data list lives there (see
// stringsFrom), else it reuses m.Data's capacity.
func (m *Publisher) readInto(r *reader, arena *[]string) {
	m.DataInfoID = r.string("data info id")
	m.RegisterID = r.string("register id")
	if arena != nil {
		m.Data = r.stringsFrom("data", arena)
	} else {
		m.Data = r.strings("data", m.Data)
	}
	m.Zone = r.string("zone")
	m.AppName = r.string("app name")
	m.ClientIP = r.string("client ip")
	n := r.count("attributes", 2)
	m.Attrs = grow(m.Attrs, n)
	for i := range m.Attrs {
		m.Attrs[i] = Attr{Key: r.string("attribute key"), Value: r.string("attribute value")}
	}
	m.Version = r.uvarint("version")
	m.RegisterTimestamp = r.varint("register timestamp")
	m.Owner = Owner{}
}

// UnregisterPublisher removes a publisher. Version is the publisher's version
// at removal, kept in the tombstone so that an older late publish is ignored.
type UnregisterPublisher struct {
	DataInfoID string
	RegisterID string
	Version    uint64
}

func (*UnregisterPublisher) Type() Type { return TypeUnregisterPublisher }

func (m *UnregisterPublisher) AppendBody(dst []byte) []byte {
	dst = appendString(dst, m.DataInfoID)
	dst = appendString(dst, m.RegisterID)
	return appendUvarint(dst, m.Version)
}

func (m *UnregisterPublisher) Unmarshal(body []byte) error {
	r := newReader(body)
	*m = UnregisterPublisher{
		DataInfoID: r.string("data info id"),
		RegisterID: r.string("register id"),
		Version:    r.uvarint("version"),
	}
	return r.done()
}

// Scope says which publishers a subscriber receives.
type Scope uint8

const (
	// ScopeZone: only publishers of the subscriber's zone.
	ScopeZone Scope = 1
	// ScopeDataCenter: publishers of every zone of this data center.
	ScopeDataCenter Scope = 2
	// ScopeGlobal: every publisher; within one data center the same as ScopeDataCenter.
	ScopeGlobal Scope = 3
)

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool { return s >= ScopeZone && s <= ScopeGlobal }

func (s Scope) String() string {
	switch s {
	case ScopeZone:
		return "zone"
	case ScopeDataCenter:
		return "dataCenter"
	case ScopeGlobal:
		return "global"
	}
	return "scope " + itoa(uint64(s))
}

// Subscriber registers interest in a dataInfoId.
type Subscriber struct {
	DataInfoID string
	RegisterID string
	Zone       string
	Scope      Scope
	AppName    string
	ClientIP   string // stamped by the session
	Version    uint64 // client counter; a re-register with a higher version replaces the old one
	// Held is the version of the list the client holds for it, from an
	// earlier connection (a replay after a reconnect); 0 for none. While
	// the registry rebuilds its data after a restart (Datum.SettleMs) the
	// session leaves such a client its list. Optional trailing field: 0 is
	// not written.
	Held uint64
}

func (*Subscriber) Type() Type { return TypeSubscriber }

func (m *Subscriber) AppendBody(dst []byte) []byte {
	dst = appendString(dst, m.DataInfoID)
	dst = appendString(dst, m.RegisterID)
	dst = appendString(dst, m.Zone)
	dst = append(dst, byte(m.Scope))
	dst = appendString(dst, m.AppName)
	dst = appendString(dst, m.ClientIP)
	dst = appendUvarint(dst, m.Version)
	if m.Held != 0 {
		dst = appendUvarint(dst, m.Held)
	}
	return dst
}

func (m *Subscriber) Unmarshal(body []byte) error {
	r := newReader(body)
	*m = Subscriber{
		DataInfoID: r.string("data info id"),
		RegisterID: r.string("register id"),
		Zone:       r.string("zone"),
		Scope:      Scope(r.byte1("scope")),
		AppName:    r.string("app name"),
		ClientIP:   r.string("client ip"),
		Version:    r.uvarint("version"),
	}
	if r.more() {
		m.Held = r.uvarint("held version")
	}
	return r.done()
}

// UnregisterSubscriber removes a subscriber.
type UnregisterSubscriber struct {
	DataInfoID string
	RegisterID string
}

func (*UnregisterSubscriber) Type() Type { return TypeUnregisterSubscriber }

func (m *UnregisterSubscriber) AppendBody(dst []byte) []byte {
	dst = appendString(dst, m.DataInfoID)
	return appendString(dst, m.RegisterID)
}

func (m *UnregisterSubscriber) Unmarshal(body []byte) error {
	r := newReader(body)
	*m = UnregisterSubscriber{DataInfoID: r.string("data info id"), RegisterID: r.string("register id")}
	return r.done()
}

func itoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}
