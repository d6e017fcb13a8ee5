package session

import (
	"encoding/binary"
	"strings"
	"unique"

	"github.com/roster-registry/roster/proto"
)

// origin is what the publishers of one client process share, interned with
// package unique: one copy per distinct value, held weakly.
type origin struct {
	zone, appName, clientIP string
}

// publisher is a client's live publication as this session holds it, 48
// bytes. What is particular to it lives in blob, one allocation laid out as
// slotstore's records are:
//
//	uvarint(len(registerID)) registerID
//	uvarint(len(data)) { uvarint(len(d)) d }
//	uvarint(len(attrs)) { uvarint(len(k)) k uvarint(len(v)) v }   (omitted when there are none)
//
// The map key of a publisher is the registerID inside blob. Nothing of the
// frame it was decoded from is kept.
type publisher struct {
	blob    string
	origin  unique.Handle[origin]
	conn    *clientConn // owner; a replay on a new connection moves it
	version uint64
	ts      int64 // register timestamp, unix ms
}

func newPublisher(conn *clientConn, p *proto.Publisher) *publisher {
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
	return &publisher{
		blob:    b.String(),
		origin:  unique.Make(origin{zone: p.Zone, appName: p.AppName, clientIP: p.ClientIP}),
		conn:    conn,
		version: p.Version,
		ts:      p.RegisterTimestamp,
	}
}

// blobReader walks a blob written by newPublisher, which alone writes them:
// reads trust the lengths.
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

func (p *publisher) registerID() string {
	br := blobReader{p.blob}
	return br.string()
}

func (p *publisher) clientIP() string { return p.origin.Value().clientIP }

// publisher returns p as a proto.Publisher of dataInfoID; the strings alias p's.
func (p *publisher) publisher(dataInfoID string) proto.Publisher {
	br := blobReader{p.blob}
	o := p.origin.Value()
	out := proto.Publisher{DataInfoID: dataInfoID, RegisterID: br.string(), Zone: o.zone, AppName: o.appName,
		ClientIP: o.clientIP, Version: p.version, RegisterTimestamp: p.ts}
	if n := br.uvarint(); n > 0 {
		out.Data = make([]string, n)
		for i := range out.Data {
			out.Data[i] = br.string()
		}
	}
	if br.s != "" {
		out.Attrs = make([]proto.Attr, br.uvarint())
		for i := range out.Attrs {
			out.Attrs[i] = proto.Attr{Key: br.string(), Value: br.string()}
		}
	}
	return out
}

// withTS returns a copy of p stamped with register timestamp ts.
func (p *publisher) withTS(ts int64) *publisher {
	c := *p
	c.ts = ts
	return &c
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
