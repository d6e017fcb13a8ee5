package proto

import (
	"errors"
	"strings"
	"testing"
)

func TestCredentialCheck(t *testing.T) {
	f := func(c Credential, ok bool) {
		t.Helper()
		err := c.Check()
		if (err == nil) != ok || err != nil && !errors.Is(err, ErrInvalidCredential) {
			t.Fatalf("%+v: %v, want ok %v", c, err, ok)
		}
	}
	f(Credential{Name: "orders-svc", App: "orders", Publish: []string{"com.example.*"}, Subscribe: []string{"*"}}, true)
	f(Credential{Name: "a.b_c-D9", App: "x"}, true)
	f(Credential{Name: "", App: "x"}, false)
	f(Credential{Name: "has space", App: "x"}, false)
	f(Credential{Name: "slash/", App: "x"}, false)
	f(Credential{Name: strings.Repeat("n", MaxCredentialName+1), App: "x"}, false)
	f(Credential{Name: "n"}, false)
	f(Credential{Name: "n", App: "two words"}, false)
	f(Credential{Name: "n", App: "x", Publish: []string{""}}, false)
	f(Credential{Name: "n", App: "x", Publish: []string{"a#@#b"}}, false)
	f(Credential{Name: "n", App: "x", Subscribe: []string{strings.Repeat("p", MaxPatternLen+1)}}, false)
	f(Credential{Name: "n", App: "x", Subscribe: make([]string, MaxPermissions+1)}, false)
}

// TestACLBounded: a heartbeat reply with more credentials than the limit,
// or an invalid one, is malformed.
func TestACLBounded(t *testing.T) {
	body := func(a ACL) []byte { return (&NodeHeartbeatReply{ConfigEpoch: 1, ACL: a}).AppendBody(nil) }
	var m NodeHeartbeatReply
	if err := m.Unmarshal(body(ACL{Credentials: []Credential{{Name: "bad name", App: "x"}}})); !errors.Is(err, ErrMalformed) {
		t.Fatalf("an invalid credential: %v", err)
	}
	many := make([]Credential, MaxCredentials+1)
	for i := range many {
		many[i] = Credential{Name: "c" + itoa(uint64(i)), App: "x"}
	}
	if err := m.Unmarshal(body(ACL{Credentials: many})); !errors.Is(err, ErrMalformed) {
		t.Fatalf("%d credentials: %v", len(many), err)
	}
	if err := m.Unmarshal(body(ACL{Credentials: many[:MaxCredentials]})); err != nil || len(m.ACL.Credentials) != MaxCredentials {
		t.Fatalf("%d credentials: %v", MaxCredentials, err)
	}
}
