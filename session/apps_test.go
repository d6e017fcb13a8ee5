package session

import (
	"slices"
	"testing"

	"github.com/roster-registry/roster/proto"
)

func TestWithParams(t *testing.T) {
	f := func(data []string, params []proto.Attr, want ...string) {
		t.Helper()
		if got := withParams(data, params); !slices.Equal(got, want) {
			t.Fatalf("withParams(%q, %v) = %q, want %q", data, params, got, want)
		}
	}
	f([]string{"10.0.0.1:1"}, nil, "10.0.0.1:1")
	f([]string{"10.0.0.1:1"}, []proto.Attr{{Key: "timeout", Value: "3000"}}, "10.0.0.1:1?timeout=3000")
	f([]string{"10.0.0.1:1?x=1", "h:2"}, []proto.Attr{{Key: "b", Value: "1 2"}, {Key: "a", Value: "&"}},
		"10.0.0.1:1?x=1&a=%26&b=1+2", "h:2?a=%26&b=1+2")
}
