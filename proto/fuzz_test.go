package proto

import (
	"bytes"
	"errors"
	"testing"
)

// fuzzDecoder checks that a decoder never panics, that every failure wraps
// ErrMalformed, and that whatever it accepts re-encodes to something it
// accepts again with the same encoding (decoding is deterministic).
func fuzzDecoder(f *testing.F, t Type) {
	for _, m := range samples() {
		if m.Type() == t {
			body := m.AppendBody(nil)
			f.Add(body)
			f.Add(body[:len(body)/2])
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	// Decoding in place must read what Unmarshal reads.
	inPlace := map[string]func(Message, []byte) (bool, error){
		"UnmarshalOwned": func(o Message, b []byte) (bool, error) {
			u, ok := o.(interface{ UnmarshalOwned([]byte) error })
			if !ok {
				return false, nil
			}
			return true, u.UnmarshalOwned(b)
		},
		"UnmarshalBorrowed": func(o Message, b []byte) (bool, error) {
			u, ok := o.(interface{ UnmarshalBorrowed([]byte) error })
			if !ok {
				return false, nil
			}
			return true, u.UnmarshalBorrowed(b)
		},
	}
	f.Fuzz(func(tt *testing.T, body []byte) {
		m := New(t)
		err := m.Unmarshal(body)
		for name, decode := range inPlace {
			o := New(t)
			has, errInPlace := decode(o, bytes.Clone(body))
			if !has {
				continue
			}
			if (err == nil) != (errInPlace == nil) {
				tt.Fatalf("Unmarshal: %v; %s: %v", err, name, errInPlace)
			}
			if err == nil && !bytes.Equal(o.AppendBody(nil), m.AppendBody(nil)) {
				tt.Fatalf("%s decoded another message than Unmarshal", name)
			}
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				tt.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		again := m.AppendBody(nil)
		m2 := New(t)
		if err := m2.Unmarshal(again); err != nil {
			tt.Fatalf("re-encoded message does not decode: %v", err)
		}
		if string(m2.AppendBody(nil)) != string(again) {
			tt.Fatal("encoding is not stable")
		}
	})
}

func FuzzHandshake(f *testing.F)            { fuzzDecoder(f, TypeHandshake) }
func FuzzHandshakeReply(f *testing.F)       { fuzzDecoder(f, TypeHandshakeReply) }
func FuzzHeartbeat(f *testing.F)            { fuzzDecoder(f, TypeHeartbeat) }
func FuzzResult(f *testing.F)               { fuzzDecoder(f, TypeResult) }
func FuzzMove(f *testing.F)                 { fuzzDecoder(f, TypeMove) }
func FuzzPublisher(f *testing.F)            { fuzzDecoder(f, TypePublisher) }
func FuzzUnregisterPublisher(f *testing.F)  { fuzzDecoder(f, TypeUnregisterPublisher) }
func FuzzSubscriber(f *testing.F)           { fuzzDecoder(f, TypeSubscriber) }
func FuzzUnregisterSubscriber(f *testing.F) { fuzzDecoder(f, TypeUnregisterSubscriber) }
func FuzzPush(f *testing.F)                 { fuzzDecoder(f, TypePush) }
func FuzzPushAck(f *testing.F)              { fuzzDecoder(f, TypePushAck) }
func FuzzWriteBatch(f *testing.F)           { fuzzDecoder(f, TypeWriteBatch) }
func FuzzWriteResult(f *testing.F)          { fuzzDecoder(f, TypeWriteResult) }
func FuzzChangeNotify(f *testing.F)         { fuzzDecoder(f, TypeChangeNotify) }
func FuzzDatumFetch(f *testing.F)           { fuzzDecoder(f, TypeDatumFetch) }
func FuzzDatum(f *testing.F)                { fuzzDecoder(f, TypeDatum) }
func FuzzInterest(f *testing.F)             { fuzzDecoder(f, TypeInterest) }
func FuzzDigestRequest(f *testing.F)        { fuzzDecoder(f, TypeDigestRequest) }
func FuzzSlotDigest(f *testing.F)           { fuzzDecoder(f, TypeSlotDigest) }
func FuzzDiffRequest(f *testing.F)          { fuzzDecoder(f, TypeDiffRequest) }
func FuzzSlotDiff(f *testing.F)             { fuzzDecoder(f, TypeSlotDiff) }
func FuzzDCSlotTableFetch(f *testing.F)     { fuzzDecoder(f, TypeDCSlotTableFetch) }
func FuzzDCWatch(f *testing.F)              { fuzzDecoder(f, TypeDCWatch) }
func FuzzTemporaryPublisher(f *testing.F)   { fuzzDecoder(f, TypeTemporaryPublisher) }
func FuzzTemporaryWrite(f *testing.F)       { fuzzDecoder(f, TypeTemporaryWrite) }
func FuzzTemporaryNotice(f *testing.F)      { fuzzDecoder(f, TypeTemporaryNotice) }
func FuzzTemporaryPush(f *testing.F)        { fuzzDecoder(f, TypeTemporaryPush) }
func FuzzSlotTable(f *testing.F)            { fuzzDecoder(f, TypeSlotTable) }
func FuzzNodeHeartbeat(f *testing.F)        { fuzzDecoder(f, TypeNodeHeartbeat) }
func FuzzNodeHeartbeatReply(f *testing.F)   { fuzzDecoder(f, TypeNodeHeartbeatReply) }
func FuzzAppRevision(f *testing.F)          { fuzzDecoder(f, TypeAppRevision) }
func FuzzAppQuery(f *testing.F)             { fuzzDecoder(f, TypeAppQuery) }
func FuzzAppQueryReply(f *testing.F)        { fuzzDecoder(f, TypeAppQueryReply) }
func FuzzConfigFetch(f *testing.F)          { fuzzDecoder(f, TypeConfigFetch) }
func FuzzConfigSet(f *testing.F)            { fuzzDecoder(f, TypeConfigSet) }
func FuzzNodeHello(f *testing.F)            { fuzzDecoder(f, TypeNodeHello) }
func FuzzNodeProof(f *testing.F)            { fuzzDecoder(f, TypeNodeProof) }

// FuzzFrame feeds whole frames: header checks, decompression and decoding.
func FuzzFrame(f *testing.F) {
	for _, m := range samples() {
		frame := AppendFrame(nil, 1, 0, m)
		f.Add(frame)
		f.Add(AppendCompressed(nil, frame, EncodingZstd))
		f.Add(AppendCompressed(nil, frame, EncodingS2))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b, 1<<16)
		if err != nil {
			return
		}
		body := b[HeaderSize:]
		if int(h.Length) < len(body) {
			body = body[:h.Length]
		}
		body, err = Decompress(h.Flags, body, 1<<16)
		if err != nil {
			return
		}
		if m := New(h.Type); m != nil {
			_ = m.Unmarshal(body)
		}
	})
}
