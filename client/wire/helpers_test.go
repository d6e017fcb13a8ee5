package wire

import (
	"strings"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

// msg is a frame body of n bytes (a Result's message).
func msg(n int) *proto.Result {
	return &proto.Result{Code: proto.CodeOK, Message: strings.Repeat("m", n)}
}

func frameOf(reqID uint64, m proto.Message) []byte { return proto.AppendFrame(nil, reqID, 0, m) }

// waitFor polls cond until it holds, failing the test after a generous deadline.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
