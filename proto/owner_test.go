package proto

import (
	"errors"
	"strings"
	"testing"
)

func TestOwnerAllows(t *testing.T) {
	a, b := Owner{1}, Owner{2}
	f := func(held, writer Owner, want bool) {
		t.Helper()
		if got := held.Allows(writer); got != want {
			t.Fatalf("%x allows %x: %v, want %v", held, writer, got, want)
		}
	}
	f(a, a, true)
	f(a, b, false)
	f(a, Owner{}, false) // an unknown writer cannot touch an owned registration
	f(Owner{}, a, true)  // an owned write adopts a registration of unknown owner
	f(Owner{}, Owner{}, true)
}

// TestOwnersTrailing: the owners of a WriteBatch travel after its ops; a
// batch without them (an older session) decodes with unknown owners, also
// into a reused message, and a list of the wrong length is malformed.
func TestOwnersTrailing(t *testing.T) {
	owned := WriteBatch{SessionID: "s", Ops: []WriteOp{
		{Kind: OpPut, Publisher: Publisher{DataInfoID: "d", RegisterID: "r1", Owner: Owner{7}}},
		{Kind: OpRemove, Publisher: Publisher{DataInfoID: "d", RegisterID: "r2"}},
	}}
	var got WriteBatch
	if err := got.Unmarshal(owned.AppendBody(nil)); err != nil {
		t.Fatal(err)
	}
	if got.Ops[0].Publisher.Owner != (Owner{7}) || !got.Ops[1].Publisher.Owner.IsZero() {
		t.Fatalf("owners %x %x", got.Ops[0].Publisher.Owner, got.Ops[1].Publisher.Owner)
	}
	old := owned
	old.Ops = []WriteOp{{Kind: OpPut, Publisher: Publisher{DataInfoID: "d", RegisterID: "r1"}}}
	body := old.AppendBody(nil)
	if err := got.Unmarshal(body); err != nil {
		t.Fatal(err)
	}
	if !got.Ops[0].Publisher.Owner.IsZero() {
		t.Fatalf("a reused op kept owner %x", got.Ops[0].Publisher.Owner)
	}
	bad := append(body, 2) // two owners for one op
	bad = append(bad, make([]byte, 2*OwnerLen)...)
	if err := got.Unmarshal(bad); !errors.Is(err, ErrMalformed) {
		t.Fatalf("two owners for one op: %v", err)
	}
}

func TestHandshakeSecretBounded(t *testing.T) {
	f := func(secret string, ok bool) {
		t.Helper()
		body := (&Handshake{Version: 1, ClientID: "c", Secret: secret}).AppendBody(nil)
		var got Handshake
		err := got.Unmarshal(body)
		if (err == nil) != ok || ok && got.Secret != secret {
			t.Fatalf("secret of %d bytes: %v, got %d bytes", len(secret), err, len(got.Secret))
		}
	}
	f("", true)
	f("s3cret", true)
	f(strings.Repeat("x", MaxSecretLen), true)
	f(strings.Repeat("x", MaxSecretLen+1), false)
	// An older client sends no secret at all.
	old := (&Handshake{Version: 1, ClientID: "c", Token: "t"}).AppendBody(nil)
	var got Handshake
	if err := got.Unmarshal(old); err != nil || got.Secret != "" {
		t.Fatalf("handshake without a secret: %v, %q", err, got.Secret)
	}
}

func TestCheckVersionStep(t *testing.T) {
	f := func(v, held uint64, ok bool) {
		t.Helper()
		if msg := CheckVersionStep(v, held); (msg == "") != ok {
			t.Fatalf("version %d after %d: %q, want ok %v", v, held, msg, ok)
		}
	}
	f(1, 0, true)
	f(2, 1, true)
	f(1, 5, true) // older: the version rules drop it, not this check
	f(MaxVersionStep+1, 1, true)
	f(MaxVersionStep+2, 1, false)
	f(MaxPublisherVersion, 0, true) // nothing held: any version in range
	f(MaxPublisherVersion+1, 0, false)
	f(1<<64-1, 1<<64-2, false) // never near overflow, even by one step
}
