package kratosregistry_test

import (
	"log"
	"os"
	"testing"

	"github.com/roster-registry/roster/testserver"
)

// sessions are the session addresses of an in-process roster that the
// package's Examples use (a real deployment names its own sessions).
var sessions []string

func TestMain(m *testing.M) {
	ts, err := testserver.StartMain(testserver.Options{})
	if err != nil {
		log.Fatal(err)
	}
	sessions = ts.Sessions()
	code := m.Run()
	ts.Stop()
	os.Exit(code)
}
