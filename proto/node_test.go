package proto

import (
	"errors"
	"strings"
	"testing"
)

func TestNodeHelloLimits(t *testing.T) {
	f := func(m NodeHello, ok bool) {
		t.Helper()
		var got NodeHello
		err := got.Unmarshal(m.AppendBody(nil))
		if ok != (err == nil) {
			t.Fatalf("%+v: err %v, want ok=%v", m, err, ok)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("%v does not wrap ErrMalformed", err)
		}
		if ok && got != m {
			t.Fatalf("got %+v, want %+v", got, m)
		}
	}
	nonce, proof := strings.Repeat("n", NodeNonceSize), strings.Repeat("p", NodeProofSize)
	f(NodeHello{Version: 1, Role: RoleSession, ID: "a/1", Addr: "a", Nonce: nonce}, true)
	f(NodeHello{Version: 1, Role: RoleSession, ID: "a/1", Addr: "a", Nonce: nonce, Proof: proof}, true)
	f(NodeHello{Version: 1, Nonce: nonce[1:]}, false)
	f(NodeHello{Version: 1, Nonce: nonce + "x"}, false)
	f(NodeHello{Version: 1, Nonce: nonce, Proof: proof[1:]}, false)
	f(NodeHello{Version: 1, Nonce: nonce, ID: strings.Repeat("i", MaxNodeNameLen+1)}, false)
	f(NodeHello{Version: 1, Nonce: nonce, Addr: strings.Repeat("i", MaxNodeNameLen+1)}, false)
	f(NodeHello{Version: 1, Nonce: nonce, ID: strings.Repeat("i", MaxNodeNameLen)}, true)

	var p NodeProof
	if err := p.Unmarshal((&NodeProof{Proof: proof[2:]}).AppendBody(nil)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short proof: %v", err)
	}
}
