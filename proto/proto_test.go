package proto

import (
	"bytes"
	"errors"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	seen := map[Type]bool{}
	for _, m := range samples() {
		seen[m.Type()] = true
		frame := AppendFrame(nil, 77, FlagReply, m)
		h, err := ParseHeader(frame, DefaultMaxBody)
		if err != nil {
			t.Fatalf("%s: header: %v", m.Type(), err)
		}
		if h.Type != m.Type() || h.RequestID != 77 || h.Flags != FlagReply || int(h.Length) != len(frame)-HeaderSize {
			t.Fatalf("%s: header %+v", m.Type(), h)
		}
		got := New(h.Type)
		if err := got.Unmarshal(frame[HeaderSize:]); err != nil {
			t.Fatalf("%s: unmarshal: %v", m.Type(), err)
		}
		if !reflect.DeepEqual(normalize(got), normalize(m)) {
			t.Fatalf("%s: round trip\n got %#v\nwant %#v", m.Type(), got, m)
		}
		// Re-encoding the decoded value gives the same bytes.
		if again := AppendFrame(nil, 77, FlagReply, got); !bytes.Equal(again, frame) {
			t.Fatalf("%s: re-encoding differs", m.Type())
		}
	}
	for t2, name := range typeNames {
		if !seen[t2] {
			t.Errorf("no sample for %s", name)
		}
	}
}

// normalize maps nil and empty slices to one form: the wire does not tell them apart.
func normalize(m Message) Message {
	frame := m.AppendBody(nil)
	out := New(m.Type())
	_ = out.Unmarshal(frame)
	return out
}

func TestTruncatedBodiesFail(t *testing.T) {
	for _, m := range samples() {
		body := m.AppendBody(nil)
		for n := 0; n < len(body); n++ {
			got := New(m.Type())
			err := got.Unmarshal(body[:n])
			if err == nil {
				// A prefix decodes only when it is a whole message of an older
				// version (it stops before optional trailing fields), and then
				// it encodes back to exactly itself.
				if again := got.AppendBody(nil); string(again) != string(body[:n]) {
					t.Fatalf("%s: truncated to %d of %d bytes decoded without error", m.Type(), n, len(body))
				}
				continue
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s: error %v does not wrap ErrMalformed", m.Type(), err)
			}
		}
	}
}

func TestTrailingBytesIgnored(t *testing.T) {
	// A newer peer may append fields; an older decoder must still read the message.
	for _, m := range samples() {
		body := append(m.AppendBody(nil), 1, 2, 3)
		if err := New(m.Type()).Unmarshal(body); err != nil {
			t.Fatalf("%s: %v", m.Type(), err)
		}
	}
}

func TestParseHeader(t *testing.T) {
	good := AppendHeader(nil, Header{Length: 10, Type: TypePush, Flags: FlagZstd, RequestID: 5})
	f := func(name string, mutate func(b []byte) []byte, limit int, want error) {
		t.Helper()
		b := mutate(append([]byte(nil), good...))
		_, err := ParseHeader(b, limit)
		if !errors.Is(err, want) {
			t.Fatalf("%s: got %v, want %v", name, err, want)
		}
	}
	same := func(b []byte) []byte { return b }
	f("good", same, 100, nil)
	f("short", func(b []byte) []byte { return b[:10] }, 100, ErrMalformed)
	f("magic", func(b []byte) []byte { b[4] = 0; return b }, 100, ErrBadMagic)
	f("version", func(b []byte) []byte { b[5] = 9; return b }, 100, ErrUnsupportedVersion)
	f("too large", same, 9, ErrFrameTooLarge)
	f("unknown flag", func(b []byte) []byte { b[7] = 0x80; return b }, 100, ErrMalformed)
	f("two codecs", func(b []byte) []byte { b[7] = byte(FlagZstd | FlagS2); return b }, 100, ErrMalformed)
}

func TestHugeCountsRejectedWithoutAllocating(t *testing.T) {
	// A list count of 2^40 in a 12-byte body must fail fast, not allocate.
	body := appendString(nil, "d")
	body = appendString(body, "z")
	body = appendUvarint(body, 1)
	body = appendUvarint(body, 0)
	body = appendUvarint(body, 1<<40)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 10; i++ {
		var p Push
		if err := p.Unmarshal(body); !errors.Is(err, ErrMalformed) {
			t.Fatalf("got %v", err)
		}
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Fatalf("%d bytes allocated for 10 forged counts", n)
	}
	long := appendUvarint(nil, MaxStringLen+1)
	long = append(long, strings.Repeat("x", MaxStringLen+1)...)
	if err := new(DatumFetch).Unmarshal(long); !errors.Is(err, ErrMalformed) {
		t.Fatalf("over-long string: %v", err)
	}
}

func TestCompressRoundTrip(t *testing.T) {
	m := &Push{DataInfoID: "d", Version: 1}
	for i := 0; i < 200; i++ {
		m.Publishers = append(m.Publishers, PushPublisher{RegisterID: "r" + itoa(uint64(i)), Zone: "z", Version: 1,
			Data: []string{"10.0.0." + itoa(uint64(i%250)) + ":12200?weight=100&protocol=bolt"}})
	}
	plain := AppendFrame(nil, 0, 0, m)
	for _, enc := range []Encoding{EncodingZstd, EncodingS2} {
		framed := AppendCompressed([]byte("prefix"), plain, enc)[len("prefix"):]
		h, err := ParseHeader(framed, DefaultMaxBody)
		if err != nil || !h.Flags.Compressed() {
			t.Fatalf("enc %d: header %+v %v", enc, h, err)
		}
		if int(h.Length) >= len(plain)-HeaderSize {
			t.Fatalf("enc %d: %d bytes compressed from %d", enc, h.Length, len(plain)-HeaderSize)
		}
		body, err := Decompress(h.Flags, framed[HeaderSize:], DefaultMaxBody)
		if err != nil || !bytes.Equal(body, plain[HeaderSize:]) {
			t.Fatalf("enc %d: decompress: %v", enc, err)
		}
		if _, err := Decompress(h.Flags, framed[HeaderSize:], 100); !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("enc %d: limit not enforced: %v", enc, err)
		}
		if _, err := Decompress(h.Flags, []byte("garbage that is not compressed"), DefaultMaxBody); err == nil {
			t.Fatalf("enc %d: garbage decompressed", enc)
		}
	}
	if Choose(EncodingS2|EncodingZstd) != EncodingZstd || Choose(EncodingS2) != EncodingS2 || Choose(0) != 0 {
		t.Fatal("Choose")
	}
}

func TestListHash(t *testing.T) {
	a := []PushPublisher{{RegisterID: "a", Version: 1}, {RegisterID: "b", Version: 2}}
	b := []PushPublisher{a[1], a[0]}
	if ListHash(a) != ListHash(b) {
		t.Fatal("hash depends on order")
	}
	if ListHash(a) == ListHash(a[:1]) || PublisherHash("a", 1) == PublisherHash("a", 2) {
		t.Fatal("hash ignores content")
	}
	// Pinned: clients of other builds compute the same value.
	if got := PublisherHash("r-1", 7); got != 0x270e395ac7a981bc {
		t.Fatalf("PublisherHash(r-1, 7) = %#x", got)
	}
}

func TestMinPublisherSize(t *testing.T) {
	// The list bound must not exceed the smallest real encoding, or a list
	// of minimal publishers would be refused.
	if n := len((&Publisher{}).AppendBody(nil)); n != minPublisherSize {
		t.Fatalf("an empty publisher encodes to %d bytes, minPublisherSize is %d", n, minPublisherSize)
	}
	// Lists of minimal elements decode.
	for _, m := range []Message{
		&WriteBatch{Ops: []WriteOp{{Kind: OpPut}, {Kind: OpRemove}}},
		&Datum{Publishers: []Publisher{{}, {}}},
		&SlotDiff{Publishers: []Publisher{{}}},
	} {
		if err := New(m.Type()).Unmarshal(m.AppendBody(nil)); err != nil {
			t.Fatalf("%s of minimal elements: %v", m.Type(), err)
		}
	}
}

// TestTrailingBytesBounded: a message may carry up to MaxTrailingBytes of
// fields a later version adds; more is malformed.
func TestTrailingBytesBounded(t *testing.T) {
	body := (&Handshake{Version: ProtocolVersion, ClientID: "c", Secret: "s"}).AppendBody(nil)
	var h Handshake
	if err := h.Unmarshal(append(slices.Clone(body), make([]byte, MaxTrailingBytes)...)); err != nil {
		t.Fatalf("%d trailing bytes: %v", MaxTrailingBytes, err)
	}
	err := h.Unmarshal(append(slices.Clone(body), make([]byte, MaxTrailingBytes+1)...))
	if !errors.Is(err, ErrTrailingBytes) || !errors.Is(err, ErrMalformed) {
		t.Fatalf("%d trailing bytes: %v", MaxTrailingBytes+1, err)
	}
}
