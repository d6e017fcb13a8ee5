package client

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestServersURL(t *testing.T) {
	fs := newFakeSession(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/servers/query" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode([]string{fs.addr()})
	}))
	t.Cleanup(srv.Close)

	c := newTestClient(t, Config{ServersURL: srv.URL + "/api/servers/query"})
	if _, err := c.Publish(testCtx(t), Publication{DataID: "svc", Data: []string{"a:1"}}); err != nil {
		t.Fatalf("cannot publish through the listed session: %v", err)
	}

	// A list that cannot be fetched falls back to Sessions.
	newTestClient(t, Config{ServersURL: srv.URL + "/missing"}, fs.addr())
}
