package client

import (
	"encoding/binary"
	"math"
	"strings"

	"github.com/roster-registry/roster/proto"
)

// A record is one publisher of a list, encoded: its register id, zone,
// version, data and attributes, strings prefixed by their length as
// uvarints. A list keeps all its records in one string (pubList.recs), so
// a publisher costs its bytes and a 4-byte offset, not a map entry, a
// slice header per field and a string header per data item; every string a
// reader gets is a substring of it.
//
// The encoding is the publisher's content and nothing else: two records
// are equal exactly when a handler would see the same publisher, which is
// what contentSum hashes. A field added to proto.PushPublisher that a
// handler sees goes at the end of appendRecord and readRecord, and into
// Instance, as the data center does (written only when named).

// appendRecord appends pp's record to b.
func appendRecord(b []byte, pp *proto.PushPublisher) []byte {
	b = appendRecString(b, pp.RegisterID)
	b = appendRecString(b, pp.Zone)
	b = binary.AppendUvarint(b, pp.Version)
	b = binary.AppendUvarint(b, uint64(len(pp.Data)))
	for _, d := range pp.Data {
		b = appendRecString(b, d)
	}
	b = binary.AppendUvarint(b, uint64(len(pp.Attrs)))
	for _, a := range pp.Attrs {
		b = appendRecString(b, a.Key)
		b = appendRecString(b, a.Value)
	}
	if pp.DataCenter != "" {
		// Only in a global subscriber's list: no byte for the others.
		b = appendRecString(b, pp.DataCenter)
	}
	return b
}

func appendRecString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// recSize is len(appendRecord(nil, pp)).
func recSize(pp *proto.PushPublisher) int {
	n := recStringSize(pp.RegisterID) + recStringSize(pp.Zone) + uvarintSize(pp.Version) + uvarintSize(uint64(len(pp.Data)))
	for _, d := range pp.Data {
		n += recStringSize(d)
	}
	n += uvarintSize(uint64(len(pp.Attrs)))
	for _, a := range pp.Attrs {
		n += recStringSize(a.Key) + recStringSize(a.Value)
	}
	if pp.DataCenter != "" {
		n += recStringSize(pp.DataCenter)
	}
	return n
}

func recStringSize(s string) int { return uvarintSize(uint64(len(s))) + len(s) }

func uvarintSize(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// recReader reads a record this process encoded: nothing in it comes
// from the network as such, but a read past its end yields zero values
// rather than a panic.
type recReader struct {
	s   string
	off int
}

func (r *recReader) uvarint() uint64 {
	var v uint64
	for shift := uint(0); r.off < len(r.s) && shift < 64; shift += 7 {
		c := r.s[r.off]
		r.off++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			break
		}
	}
	return v
}

func (r *recReader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.s)-r.off) {
		r.off = len(r.s)
		return ""
	}
	s := r.s[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

// count reads a list length, bounded by the bytes left (each element
// takes minSize at least).
func (r *recReader) count(minSize int) int {
	return int(min(r.uvarint(), uint64((len(r.s)-r.off)/minSize)))
}

// readRecord decodes a record; its strings are substrings of rec.
func readRecord(rec string) proto.PushPublisher { return readRecordTo(rec, nil) }

// readRecordTo is readRecord putting the data into *arena (when not nil)
// rather than a slice of their own: one array for a list's publishers.
func readRecordTo(rec string, arena *[]string) proto.PushPublisher {
	r := recReader{s: rec}
	pp := proto.PushPublisher{RegisterID: r.string(), Zone: r.string(), Version: r.uvarint()}
	if n := r.count(1); n > 0 {
		if arena == nil {
			pp.Data = make([]string, n)
			for i := range pp.Data {
				pp.Data[i] = r.string()
			}
		} else {
			start := len(*arena)
			for range n {
				*arena = append(*arena, r.string())
			}
			pp.Data = (*arena)[start:len(*arena):len(*arena)]
		}
	}
	if n := r.count(2); n > 0 {
		pp.Attrs = make([]proto.Attr, n)
		for i := range pp.Attrs {
			pp.Attrs[i] = proto.Attr{Key: r.string(), Value: r.string()}
		}
	}
	if r.off < len(r.s) {
		pp.DataCenter = r.string()
	}
	return pp
}

// recID returns a record's register id.
func recID(rec string) string {
	r := recReader{s: rec}
	return r.string()
}

// recHead returns a record's register id, zone and version, and a reader
// at its data.
func recHead(rec string) (id, zone string, version uint64, data recReader) {
	r := recReader{s: rec}
	id, zone, version = r.string(), r.string(), r.uvarint()
	return id, zone, version, r
}

// recDataCenter returns a record's data center ("" when it names none)
// and a reader at its data, without decoding the rest: dcData asks it of
// every record of every new list, most of which name none.
func recDataCenter(rec string) (dc string, data recReader) {
	_, _, _, data = recHead(rec)
	r := data
	for n := r.count(1); n > 0; n-- {
		r.string()
	}
	for n := r.count(2); n > 0; n-- {
		r.string()
		r.string()
	}
	if r.off < len(r.s) {
		dc = r.string()
	}
	return dc, data
}

// listBuilder writes a new list's records, in register id order, into
// one string. Sized exactly up front (n records, bytes in all): the string
// is the list's, any slack would be kept with it.
type listBuilder struct {
	buf     strings.Builder
	offs    []uint32
	hash    uint64
	sum     uint64
	scratch []byte
}

func newListBuilder(n, bytes int) *listBuilder {
	b := &listBuilder{offs: make([]uint32, 0, n)}
	b.buf.Grow(bytes)
	return b
}

// copyRun appends l's records i to j-1 as they are; the caller accounts
// for their hashes and sums.
func (b *listBuilder) copyRun(l *pubList, i, j int) {
	if i >= j {
		return
	}
	start, end := int(l.offs[i]), len(l.recs)
	if j < len(l.offs) {
		end = int(l.offs[j])
	}
	shift := b.buf.Len() - start
	for _, off := range l.offs[i:j] {
		b.offs = append(b.offs, uint32(int(off)+shift))
	}
	b.buf.WriteString(l.recs[start:end])
}

// addPub appends pp's record.
func (b *listBuilder) addPub(pp *proto.PushPublisher) {
	b.scratch = appendRecord(b.scratch[:0], pp)
	b.offs = append(b.offs, uint32(b.buf.Len()))
	b.buf.Write(b.scratch)
	b.hash ^= proto.PublisherHash(pp.RegisterID, pp.Version)
	b.sum ^= recSumBytes(b.scratch)
}

// list returns the list built, or false when its records outgrow the
// offsets (4 GiB: more than any push can carry).
func (b *listBuilder) list(version uint64, received int64) (*pubList, bool) {
	if b.buf.Len() > math.MaxUint32 {
		return nil, false
	}
	return &pubList{version: version, recs: b.buf.String(), offs: b.offs, hash: b.hash, sum: b.sum, received: received}, true
}
