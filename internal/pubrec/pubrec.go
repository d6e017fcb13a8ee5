// Package pubrec holds one publisher in memory compactly: the session's
// registry and the data node's store keep millions of them, so each is a
// fixed 40-byte header and one string holding everything of variable size.
package pubrec

import (
	"encoding/binary"
	"strings"
	"unique"

	"github.com/roster-registry/roster/proto"
)

// origin is what the publishers of one client process share. It is interned
// with package unique: one copy per distinct value, held weakly, so a client
// IP that leaves the fleet does not stay in an interner forever. The owner
// is per client process too, so keeping it here costs a record nothing;
// so is the data center, "" for this one (MakeAll names a linked one).
type origin struct {
	zone, appName, clientIP, dataCenter string
	owner                               proto.Owner
}

// Rec is a publisher without its dataInfoId (the key it is stored under).
// Everything of variable size and particular to the publisher lives in
// blob, one allocation:
//
//	uvarint(len(registerID)) registerID
//	uvarint(len(data)) { uvarint(len(d)) d }
//	uvarint(len(attrs)) { uvarint(len(k)) k uvarint(len(v)) v }   (omitted when there are none)
//
// A map keyed by RegisterID() costs nothing more: the key is inside blob.
type Rec struct {
	blob    string
	origin  unique.Handle[origin]
	Version uint64
	TS      int64 // register timestamp, unix ms, stamped by the session
}

// Make copies what a Rec keeps of p into one fresh string, so nothing of
// the frame p was decoded from stays referenced.
func Make(p *proto.Publisher) Rec {
	var b strings.Builder
	b.Grow(blobSize(p))
	writeBlob(&b, p)
	return makeRec(b.String(), p, "")
}

// MakeAll is Make of n publishers, pub(i) the i-th and the data center it
// registered in ("" this one), their blobs sharing one string: a list of
// records made together (a datum's publishers pushed by a session that
// does not hold them) costs one allocation for the strings and one for
// the records. pub is called twice per publisher.
func MakeAll(n int, pub func(i int) (p *proto.Publisher, dataCenter string)) []Rec {
	size := 0
	for i := range n {
		p, _ := pub(i)
		size += blobSize(p)
	}
	var b strings.Builder
	b.Grow(size)
	for i := range n {
		p, _ := pub(i)
		writeBlob(&b, p)
	}
	all := b.String()
	out := make([]Rec, n)
	for i := range out {
		p, dc := pub(i)
		l := blobSize(p)
		out[i] = makeRec(all[:l], p, dc)
		all = all[l:]
	}
	return out
}

func makeRec(blob string, p *proto.Publisher, dataCenter string) Rec {
	return Rec{
		blob:    blob,
		origin:  unique.Make(origin{zone: p.Zone, appName: p.AppName, clientIP: p.ClientIP, dataCenter: dataCenter, owner: p.Owner}),
		Version: p.Version,
		TS:      p.RegisterTimestamp,
	}
}

// blobSize is the length of p's blob.
func blobSize(p *proto.Publisher) int {
	n := sizeString(p.RegisterID) + uvarintLen(uint64(len(p.Data)))
	for _, d := range p.Data {
		n += sizeString(d)
	}
	if len(p.Attrs) > 0 {
		n += uvarintLen(uint64(len(p.Attrs)))
		for _, a := range p.Attrs {
			n += sizeString(a.Key) + sizeString(a.Value)
		}
	}
	return n
}

// writeBlob writes p's blob to b.
func writeBlob(b *strings.Builder, p *proto.Publisher) {
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
}

// RegisterID returns the publisher's register id.
func (r *Rec) RegisterID() string {
	br := blobReader{r.blob}
	return br.string()
}

// Zone returns the publisher's zone.
func (r *Rec) Zone() string { return r.origin.Value().zone }

// DataCenter returns the data center the publisher registered in, "" for
// this one.
func (r *Rec) DataCenter() string { return r.origin.Value().dataCenter }

// ClientIP returns the address of the publisher's client.
func (r *Rec) ClientIP() string { return r.origin.Value().clientIP }

// Owner returns the client that owns the publisher (see proto.Owner).
func (r *Rec) Owner() proto.Owner { return r.origin.Value().owner }

// Hash is the publisher's contribution to digests and list hashes.
func (r *Rec) Hash() uint64 { return proto.PublisherHash(r.RegisterID(), r.Version) }

// PushSize is about the bytes the publisher takes in a push (within a
// few: its data center's index and the attributes' framing are left out):
// its register id, data and attributes as the blob holds them, zone and
// version.
func (r *Rec) PushSize() int {
	return len(r.blob) + sizeString(r.Zone()) + uvarintLen(r.Version)
}

// HasAttrs reports whether the publisher has attributes (the blob's last
// part, left out when there are none).
func (r *Rec) HasAttrs() bool {
	br := blobReader{r.blob}
	br.string()
	for n := br.uvarint(); n > 0; n-- {
		br.string()
	}
	return br.s != ""
}

// DataCount returns the number of data strings.
func (r *Rec) DataCount() int {
	br := blobReader{r.blob}
	br.string()
	return br.uvarint()
}

// AppendData appends the data strings to dst; they alias r's.
func (r *Rec) AppendData(dst []string) []string {
	br := blobReader{r.blob}
	br.string()
	for n := br.uvarint(); n > 0; n-- {
		dst = append(dst, br.string())
	}
	return dst
}

// AppendAttrs appends the attributes to dst; their strings alias r's.
// A record without attributes appends nothing.
func (r *Rec) AppendAttrs(dst []proto.Attr) []proto.Attr {
	br := blobReader{r.blob}
	br.string()
	for n := br.uvarint(); n > 0; n-- {
		br.string()
	}
	if br.s == "" {
		return dst
	}
	for n := br.uvarint(); n > 0; n-- {
		dst = append(dst, proto.Attr{Key: br.string(), Value: br.string()})
	}
	return dst
}

// Decode sets p to the publisher as pushed, in one pass over the blob: its
// data strings are appended to data and its attributes to attrs, p's
// capped to them (nil when it has none), so one backing array of each
// serves a list. Every string aliases r's. It returns data and attrs.
func (r *Rec) Decode(p *proto.PushPublisher, data []string, attrs []proto.Attr) ([]string, []proto.Attr) {
	br := blobReader{r.blob}
	o := r.origin.Value()
	*p = proto.PushPublisher{RegisterID: br.string(), Zone: o.zone, Version: r.Version, DataCenter: o.dataCenter}
	start := len(data)
	for n := br.uvarint(); n > 0; n-- {
		data = append(data, br.string())
	}
	p.Data = data[start:len(data):len(data)]
	if br.s == "" {
		return data, attrs
	}
	start = len(attrs)
	for n := br.uvarint(); n > 0; n-- {
		attrs = append(attrs, proto.Attr{Key: br.string(), Value: br.string()})
	}
	if len(attrs) > start {
		p.Attrs = attrs[start:len(attrs):len(attrs)]
	}
	return data, attrs
}

// Fill sets p to the publisher of dataInfoID. Data strings are appended to
// *data and p.Data is capped to them, so one backing array can serve many
// publishers. Every string aliases r's (immutable) copy.
func (r *Rec) Fill(dataInfoID string, p *proto.Publisher, data *[]string) {
	br := blobReader{r.blob}
	o := r.origin.Value()
	*p = proto.Publisher{
		DataInfoID:        dataInfoID,
		RegisterID:        br.string(),
		Zone:              o.zone,
		AppName:           o.appName,
		ClientIP:          o.clientIP,
		Version:           r.Version,
		RegisterTimestamp: r.TS,
		Owner:             o.owner,
	}
	start := len(*data)
	for n := br.uvarint(); n > 0; n-- {
		*data = append(*data, br.string())
	}
	p.Data = (*data)[start:len(*data):len(*data)]
	if br.s == "" {
		return
	}
	p.Attrs = make([]proto.Attr, br.uvarint())
	for i := range p.Attrs {
		p.Attrs[i] = proto.Attr{Key: br.string(), Value: br.string()}
	}
}

// blobReader walks a blob written by Make, which alone writes them: reads
// trust the lengths.
type blobReader struct{ s string }

func (r *blobReader) uvarint() int {
	var v uint64
	var shift uint
	for i := 0; ; i++ {
		c := r.s[i]
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			r.s = r.s[i+1:]
			return int(v)
		}
		shift += 7
	}
}

func (r *blobReader) string() string {
	n := r.uvarint()
	s := r.s[:n]
	r.s = r.s[n:]
	return s
}

func sizeString(s string) int { return uvarintLen(uint64(len(s))) + len(s) }

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
