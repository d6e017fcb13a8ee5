package acl

import (
	"strings"
	"testing"

	"github.com/roster-registry/roster/proto"
)

func TestMatch(t *testing.T) {
	f := func(pattern, s string, want bool) {
		t.Helper()
		if got := Match(pattern, s); got != want {
			t.Fatalf("Match(%q, %q) = %v, want %v", pattern, s, got, want)
		}
	}
	f("*", "", true)
	f("*", "com.example.Pay", true)
	f("*", "*0", true) // a star in the id is a byte like any other
	f("com.example.Pay", "com.example.Pay", true)
	f("com.example.Pay", "com.example.PayX", false)
	f("com.example.Pay", "com.example.Pa", false)
	f("com.example.*", "com.example.Pay", true)
	f("com.example.*", "com.example.", true)
	f("com.example.*", "com.exampleX", false)
	f("com.*.Pay", "com.example.Pay", true)
	f("com.*.Pay", "com.example.PayLater", false)
	f("*Pay", "com.example.Pay", true)
	f("*Pay*", "com.example.PayLater", true)
	f("com.example.Pay:?.0", "com.example.Pay:1.0", true)
	f("com.example.Pay:?.0", "com.example.Pay:10.0", false)
	f("a*b*c", "aXbYc", true)
	f("a*b*c", "aXbYcZ", false)
	f("a*a*a*a*b", strings.Repeat("a", 50), false) // no backtracking blow-up
	f("", "", true)
	f("", "x", false)
}

func TestAuthenticate(t *testing.T) {
	token := NewToken("orders-svc")
	other := NewToken("orders-svc")
	s := NewSet(proto.ACL{Credentials: []proto.Credential{{Name: "orders-svc", App: "orders", TokenHash: HashToken(token)}}})
	f := func(tok string, want bool) {
		t.Helper()
		if _, ok := s.Authenticate(tok); ok != want {
			t.Fatalf("Authenticate(%q) = %v, want %v", tok, ok, want)
		}
	}
	f(token, true)
	f(other, false) // the name is right, the secret is not
	f("orders-svc", false)
	f("", false)
	f("."+token, false)
	f(strings.Replace(token, "orders-svc", "payments", 1), false)
	if !strings.HasPrefix(token, "orders-svc.") || len(token) < len("orders-svc.")+20 {
		t.Fatalf("token %q", token)
	}
}

func TestDataID(t *testing.T) {
	if got := DataID("com.example.Pay:1.0#@#DEFAULT_INSTANCE_ID#@#DEFAULT_GROUP"); got != "com.example.Pay:1.0" {
		t.Fatal(got)
	}
	if got := DataID("bare"); got != "bare" {
		t.Fatal(got)
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("com.*.Pay?", "com.example.Pay1")
	f.Add("**a*?", "aaaa")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		got := Match(pattern, s)
		if !strings.ContainsAny(pattern, "*?") && got != (pattern == s) {
			t.Fatalf("literal pattern %q vs %q: %v", pattern, s, got)
		}
		if pattern == "*" && !got {
			t.Fatal("* must match everything")
		}
		if Match("*"+pattern, "x"+s) != true && got {
			t.Fatal("a leading star must absorb a prefix")
		}
	})
}
