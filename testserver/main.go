package testserver

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/roster-registry/roster/internal/testcluster"
)

// StartMain starts a roster outside a test, for a TestMain shared by a
// package's tests or for runnable Examples (which have no *testing.T), as
// etcd's examples do with their lazy cluster. Stop it when m.Run returned:
//
//	func TestMain(m *testing.M) {
//		ts, err := testserver.StartMain(testserver.Options{})
//		if err != nil {
//			log.Fatal(err)
//		}
//		code := m.Run()
//		ts.Stop()
//		os.Exit(code)
//	}
func StartMain(opts Options) (s *Server, err error) {
	tb := &mainTB{}
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(mainFatal)
			if !ok {
				panic(r)
			}
			tb.cleanup()
			s, err = nil, fmt.Errorf("cannot start roster: %s", string(f))
		}
	}()
	c := testcluster.Start(tb, testcluster.Options{Sessions: opts.Sessions, DataNodes: opts.DataNodes})
	return &Server{c: c, stop: tb.cleanup}, nil
}

// Main runs a package's tests and Examples against a roster started by
// StartMain, handed to started first, and returns m.Run's exit code:
//
//	func TestMain(m *testing.M) {
//		os.Exit(testserver.Main(m, testserver.Options{}, func(ts *testserver.Server) { sessions = ts.Sessions() }))
//	}
func Main(m *testing.M, opts Options, started func(*Server)) int {
	ts, err := StartMain(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer ts.Stop()
	started(ts)
	return m.Run()
}

// Stop stops a roster started by StartMain (Start's stops with its test).
func (s *Server) Stop() {
	if s.stop != nil {
		s.stop()
	}
}

// mainFatal is the panic of mainTB.Fatal, recovered by StartMain.
type mainFatal string

// mainTB is the testing.TB the cluster needs, outside a test: Fatal
// panics (StartMain turns it into an error), cleanups run on Stop. The
// methods the cluster does not call are the nil embedded TB's: calling one
// panics, which a test of this package would show.
type mainTB struct {
	testing.TB

	mu       sync.Mutex
	cleanups []func()
	dirs     []string
	done     bool
}

func (*mainTB) Helper()                   {}
func (*mainTB) Name() string              { return "testserver" }
func (*mainTB) Logf(string, ...any)       {}
func (*mainTB) Log(...any)                {}
func (*mainTB) Fatal(args ...any)         { panic(mainFatal(fmt.Sprint(args...))) }
func (*mainTB) Fatalf(f string, a ...any) { panic(mainFatal(fmt.Sprintf(f, a...))) }
func (*mainTB) Errorf(f string, a ...any) { panic(mainFatal(fmt.Sprintf(f, a...))) }

func (tb *mainTB) Cleanup(f func()) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.cleanups = append(tb.cleanups, f)
}

func (tb *mainTB) TempDir() string {
	dir, err := os.MkdirTemp("", "testserver-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.dirs = append(tb.dirs, dir)
	return dir
}

// cleanup runs the cleanups, last registered first, once, then deletes
// the temporary directories.
func (tb *mainTB) cleanup() {
	tb.mu.Lock()
	if tb.done {
		tb.mu.Unlock()
		return
	}
	tb.done = true
	fs, dirs := tb.cleanups, tb.dirs
	tb.mu.Unlock()
	for _, f := range slices.Backward(fs) {
		f()
	}
	for _, d := range dirs {
		_ = os.RemoveAll(d)
	}
}
