package kratosregistry_test

import (
	"os"
	"testing"

	"github.com/roster-registry/roster/testserver"
)

// sessions are the session addresses of an in-process roster that the
// package's Examples use (a real deployment names its own sessions).
var sessions []string

func TestMain(m *testing.M) {
	os.Exit(testserver.Main(m, testserver.Options{}, func(ts *testserver.Server) { sessions = ts.Sessions() }))
}
