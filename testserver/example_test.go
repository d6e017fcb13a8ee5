package testserver_test

import (
	"context"
	"testing"

	"github.com/roster-registry/roster/client"
	"github.com/roster-registry/roster/testserver"
)

// t stands for the *testing.T of the test this example's body belongs in.
var t *testing.T

// A test of an application starts a roster of its own and points the
// application's client at it.
func ExampleStart() {
	ts := testserver.Start(t, testserver.Options{})
	rc, err := client.New(context.Background(), ts.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	// Publish and subscribe as the application does; the roster stops
	// when the test ends.
}
