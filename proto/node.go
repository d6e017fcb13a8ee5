package proto

// NodeHandshakeVersion is the version of the node handshake this build speaks.
const NodeHandshakeVersion = 1

// Limits of the node handshake's fields, checked by the decoders: a node
// handshake is small, and nothing about it may claim more.
const (
	NodeNonceSize  = 32  // bytes of a handshake nonce
	NodeProofSize  = 32  // bytes of a handshake proof (HMAC-SHA256)
	MaxNodeNameLen = 256 // bytes of a node id or address in the handshake
)

// NodeHello opens a link between two nodes, before any other frame: the
// dialer sends it as a request, and the acceptor answers with its own
// NodeHello carrying its Proof (or a Result refusing the link). Each side
// names its role, its node id and its advertised address, and brings a
// fresh nonce. With a cluster secret, a Proof is an HMAC over both hellos
// (see netio): the acceptor's comes in its answer, the dialer's in a
// NodeProof. With certificates only, Proof is empty.
type NodeHello struct {
	Version uint16
	Role    Role
	ID      string
	Addr    string
	Nonce   string // NodeNonceSize bytes
	Proof   string // empty or NodeProofSize bytes
}

func (*NodeHello) Type() Type { return TypeNodeHello }

func (m *NodeHello) AppendBody(dst []byte) []byte {
	dst = appendUvarint(dst, uint64(m.Version))
	dst = append(dst, byte(m.Role))
	dst = appendString(dst, m.ID)
	dst = appendString(dst, m.Addr)
	dst = appendString(dst, m.Nonce)
	return appendString(dst, m.Proof)
}

func (m *NodeHello) Unmarshal(body []byte) error {
	r := newReader(body)
	v := r.uvarint("node handshake version")
	if v > 1<<16-1 {
		r.fail("node handshake version")
	}
	*m = NodeHello{
		Version: uint16(v),
		Role:    Role(r.byte1("role")),
		ID:      r.boundedString("node id", MaxNodeNameLen),
		Addr:    r.boundedString("node address", MaxNodeNameLen),
		Nonce:   r.boundedString("nonce", NodeNonceSize),
		Proof:   r.boundedString("proof", NodeProofSize),
	}
	if len(m.Nonce) != NodeNonceSize {
		r.fail("nonce")
	}
	if m.Proof != "" && len(m.Proof) != NodeProofSize {
		r.fail("proof")
	}
	return r.done()
}

// NodeProof is the dialer's proof of the cluster secret, sent once the
// acceptor's NodeHello proved its own; a Result answers it.
type NodeProof struct {
	Proof string // NodeProofSize bytes
}

func (*NodeProof) Type() Type { return TypeNodeProof }

func (m *NodeProof) AppendBody(dst []byte) []byte { return appendString(dst, m.Proof) }

func (m *NodeProof) Unmarshal(body []byte) error {
	r := newReader(body)
	m.Proof = r.boundedString("proof", NodeProofSize)
	if len(m.Proof) != NodeProofSize {
		r.fail("proof")
	}
	return r.done()
}

// boundedString reads a string of at most limit bytes.
func (r *reader) boundedString(what string, limit int) string {
	s := r.string(what)
	if len(s) > limit {
		r.fail(what)
		return ""
	}
	return s
}
