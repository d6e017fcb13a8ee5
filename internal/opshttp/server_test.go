package opshttp

import (
	"context"
	"net/http"
	"testing"
)

func TestAdminEndpointsNeedTheToken(t *testing.T) {
	f := func(token, sent string, want int) {
		t.Helper()
		s := New("127.0.0.1:0", func() (bool, any) { return true, nil }, nil)
		s.SetAdminToken(token)
		changed := false
		s.HandleAdmin("POST /change", func(w http.ResponseWriter, r *http.Request) { changed = true })
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer s.Stop(context.Background())
		req, _ := http.NewRequest(http.MethodPost, "http://"+s.Addr()+"/change", nil)
		if sent != "" {
			req.Header.Set("Authorization", "Bearer "+sent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want || changed != (want == http.StatusOK) {
			t.Fatalf("token %q sent %q: status %d changed %v", token, sent, resp.StatusCode, changed)
		}
	}
	f("secret", "secret", http.StatusOK)
	f("secret", "wrong", http.StatusUnauthorized)
	f("secret", "", http.StatusUnauthorized)
	f("", "", http.StatusOK) // no token: loopback clients only, and this is one
}
