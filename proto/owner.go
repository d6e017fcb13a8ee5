package proto

// OwnerLen is the size of an Owner.
const OwnerLen = 16

// Owner names the client that owns a registration: a key the session
// derives from the client's handshake (its ClientID and Secret), the same
// at every session for the same client. The zero Owner is "unknown": a
// record written by a node that predates ownership, which the next owned
// write of its registerId adopts.
//
// An Owner is not part of Publisher's own encoding, which clients send and
// receive: the messages between nodes that carry publishers (WriteBatch,
// SlotDiff) carry their owners in a trailing list of their own.
type Owner [OwnerLen]byte

// IsZero reports whether o is the unknown owner.
func (o Owner) IsZero() bool { return o == Owner{} }

// Allows reports whether a write by owner w may change a registration
// owned by o: the same owner, or a registration of unknown owner.
func (o Owner) Allows(w Owner) bool { return o.IsZero() || o == w }

func appendOwner(dst []byte, o Owner) []byte { return append(dst, o[:]...) }

func (r *reader) owner(what string) Owner {
	var o Owner
	r.fixed(what, o[:])
	return o
}

// fixed reads len(dst) bytes into dst.
func (r *reader) fixed(what string, dst []byte) {
	if r.err != nil {
		return
	}
	if len(r.s)-r.off < len(dst) {
		r.fail(what)
		return
	}
	copy(dst, r.s[r.off:])
	r.off += len(dst)
}

// appendOwners appends the owners of n publishers, owner(i) for each, as a
// trailing list: nothing when every one is unknown.
func appendOwners(dst []byte, n int, owner func(i int) Owner) []byte {
	for i := range n {
		if !owner(i).IsZero() {
			dst = appendUvarint(dst, uint64(n))
			for j := range n {
				dst = appendOwner(dst, owner(j))
			}
			return dst
		}
	}
	return dst
}

// readOwners reads a trailing list written by appendOwners, if any, into
// set(i) for each of the n publishers; a list of another length is malformed.
func readOwners(r *reader, n int, set func(i int, o Owner)) {
	if !r.more() {
		return
	}
	if m := r.count("owners", OwnerLen); m != n {
		r.fail("owners")
		return
	}
	for i := range n {
		set(i, r.owner("owner"))
	}
}

// Bounds of a publisher's Version (a client counter, +1 per republish; an
// unpublish's is one above the last). Sessions and slot leaders refuse a
// version above MaxPublisherVersion, so adding one to a version never
// overflows, and one more than MaxVersionStep above the version they hold
// for the registerId (its live publisher or tombstone), so no write can
// push a registration to the end of the version space at once.
const (
	MaxPublisherVersion = 1 << 62
	MaxVersionStep      = 1 << 20
)

// CheckVersionStep returns why a write of version v may not follow the
// held version, or "" when it may. held is 0 when nothing is held.
func CheckVersionStep(v, held uint64) string {
	switch {
	case v > MaxPublisherVersion:
		return "version " + itoa(v) + " is over the limit 2^62"
	case v > held && held > 0 && v-held > MaxVersionStep:
		return "version " + itoa(v) + " is " + itoa(v-held) + " ahead of the registered version " + itoa(held) +
			"; a write may step at most " + itoa(MaxVersionStep) + " ahead"
	}
	return ""
}
