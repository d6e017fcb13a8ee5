package slotstore

import (
	"encoding/binary"
	"strings"
	"unique"

	"github.com/roster-registry/roster/proto"
)

// origin is what the publishers of one client process share. It is interned
// with package unique: one copy per distinct value, held weakly, so a client
// IP that leaves the fleet does not stay in an interner forever.
type origin struct {
	zone, appName, clientIP string
}

// record is one live publisher, 48 bytes. Everything of variable size and
// particular to the publisher lives in blob, one allocation:
//
//	uvarint(len(registerID)) registerID
//	uvarint(len(data)) { uvarint(len(d)) d }
//	uvarint(len(attrs)) { uvarint(len(k)) k uvarint(len(v)) v }   (omitted when there are none)
//
// The datum's map key is the registerID inside blob, so it costs nothing more.
type record struct {
	blob    string
	origin  unique.Handle[origin]
	session unique.Handle[string] // the session of the write that last won
	version uint64
	ts      int64 // register timestamp, unix ms, stamped by the session
}

// tomb remembers an unpublished register id so a late, older publish of it
// is dropped.
type tomb struct {
	version uint64
	ts      int64
	at      int64 // local unix ns of the removal, for compaction
}

// newer reports whether (v1, ts1) orders after (v2, ts2).
func newer(v1 uint64, ts1 int64, v2 uint64, ts2 int64) bool {
	return v1 > v2 || v1 == v2 && ts1 > ts2
}

// newRecord copies what it keeps of p into one fresh string, so nothing of
// the frame p was decoded from stays referenced.
func newRecord(session unique.Handle[string], p *proto.Publisher) *record {
	n := uvarintLen(uint64(len(p.RegisterID))) + len(p.RegisterID) + uvarintLen(uint64(len(p.Data)))
	for _, d := range p.Data {
		n += uvarintLen(uint64(len(d))) + len(d)
	}
	if len(p.Attrs) > 0 {
		n += uvarintLen(uint64(len(p.Attrs)))
		for _, a := range p.Attrs {
			n += uvarintLen(uint64(len(a.Key))) + len(a.Key) + uvarintLen(uint64(len(a.Value))) + len(a.Value)
		}
	}
	var b strings.Builder
	b.Grow(n)
	var tmp [binary.MaxVarintLen64]byte
	put := func(s string) {
		b.Write(binary.AppendUvarint(tmp[:0], uint64(len(s))))
		b.WriteString(s)
	}
	put(p.RegisterID)
	b.Write(binary.AppendUvarint(tmp[:0], uint64(len(p.Data))))
	for _, d := range p.Data {
		put(d)
	}
	if len(p.Attrs) > 0 {
		b.Write(binary.AppendUvarint(tmp[:0], uint64(len(p.Attrs))))
		for _, a := range p.Attrs {
			put(a.Key)
			put(a.Value)
		}
	}
	return &record{
		blob:    b.String(),
		origin:  unique.Make(origin{zone: p.Zone, appName: p.AppName, clientIP: p.ClientIP}),
		session: session,
		version: p.Version,
		ts:      p.RegisterTimestamp,
	}
}

// blobReader walks a blob written by newRecord. Blobs are built only by
// newRecord, so reads trust the lengths.
type blobReader struct {
	s string
}

func (r *blobReader) uvarint() int {
	v, n := binary.Uvarint(unsafeBytes(r.s))
	r.s = r.s[n:]
	return int(v)
}

func (r *blobReader) string() string {
	n := r.uvarint()
	s := r.s[:n]
	r.s = r.s[n:]
	return s
}

func (r *record) registerID() string {
	br := blobReader{r.blob}
	return br.string()
}

// hash is the record's contribution to digests and list hashes.
func (r *record) hash() uint64 { return proto.PublisherHash(r.registerID(), r.version) }

// dataCount returns the number of data strings of the record.
func (r *record) dataCount() int {
	br := blobReader{r.blob}
	br.string()
	return br.uvarint()
}

// publisher fills p from the record. Data strings are appended to *data, and
// p.Data is capped to them, so one backing array serves a whole datum. The
// strings alias the store's (immutable) copies.
func (r *record) publisher(dataInfoID string, p *proto.Publisher, data *[]string) {
	br := blobReader{r.blob}
	o := r.origin.Value()
	*p = proto.Publisher{
		DataInfoID:        dataInfoID,
		RegisterID:        br.string(),
		Zone:              o.zone,
		AppName:           o.appName,
		ClientIP:          o.clientIP,
		Version:           r.version,
		RegisterTimestamp: r.ts,
	}
	start := len(*data)
	for n := br.uvarint(); n > 0; n-- {
		*data = append(*data, br.string())
	}
	p.Data = (*data)[start:len(*data):len(*data)]
	if br.s == "" {
		return
	}
	n := br.uvarint()
	p.Attrs = make([]proto.Attr, n)
	for i := range p.Attrs {
		p.Attrs[i] = proto.Attr{Key: br.string(), Value: br.string()}
	}
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
