package proto

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestPushAttrsRoundTrip(t *testing.T) {
	pubs := []PushPublisher{
		{RegisterID: "a", Version: 1, Data: []string{"10.0.0.1:80"}},
		{RegisterID: "b", Zone: "z", Version: 2, Data: []string{"10.0.0.2:80"}, Attrs: []Attr{{"tags", "x,y"}, {"weight", "20"}}},
		{RegisterID: "c", Version: 3, Data: []string{"10.0.0.3:80"}},
		{RegisterID: "d", Version: 4, Data: []string{"10.0.0.4:80"}, Attrs: []Attr{{"weight", "30"}}},
	}
	m := Push{DataInfoID: "svc", Version: 9, Publishers: pubs, Count: 4, Hash: ListHash(pubs), WithAttrs: true}
	body := m.AppendBody(nil)
	if len(body) != m.Size() {
		t.Fatalf("Size %d, encoded %d", m.Size(), len(body))
	}
	var got Push
	if err := got.Unmarshal(body); err != nil {
		t.Fatal(err)
	}
	if !got.WithAttrs || !reflect.DeepEqual(got.Publishers, pubs) {
		t.Fatalf("got %+v\nwant %+v", got.Publishers, pubs)
	}

	// Without WithAttrs the body is the one of VersionHeld: nothing after
	// the hash, and no attributes decoded.
	m.WithAttrs = false
	old := m.AppendBody(nil)
	if len(old) != m.Size() || len(old) >= len(body) || string(body[:len(old)]) != string(old) {
		t.Fatalf("body without attributes is not the prefix: %d of %d bytes", len(old), len(body))
	}
	got = Push{}
	if err := got.Unmarshal(old); err != nil {
		t.Fatal(err)
	}
	if got.WithAttrs || HasAttrs(got.Publishers) {
		t.Fatalf("attributes decoded from a body without them: %+v", got.Publishers)
	}

	// Asked for but none to send: no part either, so the frame is the
	// same for every client.
	plain := Push{DataInfoID: "svc", Version: 9, Publishers: []PushPublisher{pubs[0]}, Count: 1, WithAttrs: true}
	without := plain
	without.WithAttrs = false
	if string(plain.AppendBody(nil)) != string(without.AppendBody(nil)) || plain.Size() != len(without.AppendBody(nil)) {
		t.Fatal("a push without attributes differs with WithAttrs")
	}
}

func TestPushAttrsBounded(t *testing.T) {
	f := func(name string, part []byte) {
		t.Helper()
		m := Push{DataInfoID: "svc", Version: 1, Count: 2,
			Publishers: []PushPublisher{{RegisterID: "a", Data: []string{"x"}}, {RegisterID: "b", Data: []string{"y"}}}}
		body := append(m.AppendBody(nil), part...)
		err := new(Push).Unmarshal(body)
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s: decoded with %v", name, err)
		}
	}
	attrs := func(n int, value string) []byte {
		var b []byte
		b = appendUvarint(b, uint64(n))
		for i := 0; i < n; i++ {
			b = appendString(b, "k")
			b = appendString(b, value)
		}
		return b
	}
	part := func(entries ...[]byte) []byte {
		b := appendUvarint(nil, uint64(len(entries)))
		for _, e := range entries {
			b = append(b, e...)
		}
		return b
	}
	entry := func(i int, a []byte) []byte { return append(appendUvarint(nil, uint64(i)), a...) }

	f("too many attributes", part(entry(0, attrs(MaxAttrs+1, "v"))))
	f("too many attribute bytes", part(entry(0, attrs(2, strings.Repeat("v", MaxAttrsBytes/2)))))
	f("no attributes", part(entry(0, attrs(0, ""))))
	f("index out of range", part(entry(2, attrs(1, "v"))))
	f("index twice", part(entry(1, attrs(1, "v")), entry(1, attrs(1, "v"))))
	f("indexes decreasing", part(entry(1, attrs(1, "v")), entry(0, attrs(1, "v"))))
	f("more entries than publishers", part(entry(0, attrs(1, "v")), entry(1, attrs(1, "v")), entry(1, attrs(1, "v"))))
	f("truncated", part(entry(0, attrs(1, "v")))[:4])

	// Within the limits it decodes.
	m := Push{DataInfoID: "svc", Version: 1, Count: 1, Publishers: []PushPublisher{{RegisterID: "a", Data: []string{"x"}}}}
	body := append(m.AppendBody(nil), part(entry(0, attrs(MaxAttrs, "v")))...)
	if err := m.Unmarshal(body); err != nil || len(m.Publishers[0].Attrs) != MaxAttrs {
		t.Fatalf("%d attributes: %v", len(m.Publishers[0].Attrs), err)
	}
}
