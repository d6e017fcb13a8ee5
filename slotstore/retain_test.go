package slotstore

import (
	"runtime"
	"strings"
	"testing"
	"unsafe"
	"weak"

	"github.com/roster-registry/roster/proto"
)

// TestStoreKeepsNoFrame: a publisher's strings, as decoded, alias the frame
// of the write batch it came in (a whole batch of them); whatever way it is
// stored, nothing the store keeps may point into that frame.
func TestStoreKeepsNoFrame(t *testing.T) {
	for name, apply := range map[string]func(s *Store, p *proto.Publisher){
		"Write": func(s *Store, p *proto.Publisher) {
			if _, _, err := s.Write("s1", proto.OpPut, p); err != nil {
				t.Fatal(err)
			}
		},
		"Put":          func(s *Store, p *proto.Publisher) { s.Put("s1", p) },
		"PutFromOwner": func(s *Store, p *proto.Publisher) { s.PutFromOwner("s1", p) },
		"ReplaceDatum": func(s *Store, p *proto.Publisher) {
			s.ReplaceDatum(p.DataInfoID, []proto.Publisher{*p}, []string{"s1"})
		},
		"ReplaceOwned": func(s *Store, p *proto.Publisher) {
			s.ReplaceOwned("s1", p.DataInfoID, []proto.Publisher{*p}, nil)
		},
		"Remove": func(s *Store, p *proto.Publisher) {
			s.Remove("s1", p.DataInfoID, p.RegisterID, p.Version, p.RegisterTimestamp)
		},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := NewStore(16)
			if err != nil {
				t.Fatal(err)
			}
			frame := storeFromFrame(s, apply)
			for range 3 {
				runtime.GC()
			}
			if frame.Value() != nil {
				t.Fatal("the store keeps the frame a publisher was decoded from alive")
			}
			runtime.KeepAlive(s)
		})
	}
}

// storeFromFrame applies a publisher whose strings are pieces of one large
// string, as a decoded frame's are, and returns a weak pointer to it.
//
//go:noinline
func storeFromFrame(s *Store, apply func(*Store, *proto.Publisher)) weak.Pointer[byte] {
	body := strings.Repeat("x", 1<<20)
	body = "svc#@#DEFAULT#@#g" + "rid-1" + "10.0.0.1:80" + "zone" + body
	p := &proto.Publisher{DataInfoID: body[:17], RegisterID: body[17:22], Data: []string{body[22:33]}, Zone: body[33:37],
		Version: 1, RegisterTimestamp: 1}
	apply(s, p)
	return weak.Make(unsafe.StringData(body))
}
