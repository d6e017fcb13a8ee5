package meta

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

// TestRevisionsInUseNeedEveryAnswer: a session that does not answer makes
// the round fail (so the cleaner removes nothing), rather than count its
// revisions unused.
func TestRevisionsInUseNeedEveryAnswer(t *testing.T) {
	s := startMeta(t, openStore(t, filepath.Join(t.TempDir(), "meta.db")))
	waitLeader(t, s)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close() // nothing listens there any more
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if used, err := s.revisionsInUse(ctx, []proto.NodeInfo{{ID: "s/1", HTTPAddr: dead}}); err == nil {
		t.Fatalf("a session that did not answer: used %v, no error", used)
	}
	if used, err := s.revisionsInUse(ctx, nil); err != nil || len(used) != 0 {
		t.Fatalf("no session: %v, %v", used, err)
	}
}

func TestAppCleanInterval(t *testing.T) {
	f := func(retention, want time.Duration) {
		t.Helper()
		if got := appCleanInterval(retention); got != want {
			t.Fatalf("retention %v: interval %v, want %v", retention, got, want)
		}
	}
	f(24*time.Hour, 10*time.Minute)
	f(time.Minute, 15*time.Second)
	f(time.Millisecond, 50*time.Millisecond)
}
