package meta

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/roster-registry/roster/internal/opshttp"
)

// TestAdminEndpointsRefuseMalformedInput sends the state-changing endpoints
// what an operator's typo or a hostile client would, and checks each gets a
// 4xx and changes nothing.
func TestAdminEndpointsRefuseMalformedInput(t *testing.T) {
	s := startMeta(t, openStore(t, filepath.Join(t.TempDir(), "meta.db")))
	waitLeader(t, s)
	base := "http://" + s.HTTPAddr()
	if code, body := postForm(t, s, "/api/clientManager/clientOff", map[string][]string{"ips": {"10.0.0.1"}}); code != http.StatusOK {
		t.Fatalf("clientOff: status %d: %s", code, body)
	}
	pushStopped := func() bool {
		var st PushStatusJSON
		if code := httpGet(t, s, "/api/push/status", &st); code != http.StatusOK {
			t.Fatalf("push status: %d", code)
		}
		return st.Stopped
	}

	f := func(method, path, contentType string, body io.Reader, want int) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		opshttp.SetAdminHeaders(req, "")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s %s (%s): status %d, want %d: %s", method, path, contentType, resp.StatusCode, want, b)
		}
		if got := queryClientOff(t, s); !slices.Equal(got, []string{"10.0.0.1"}) {
			t.Fatalf("%s %s changed the client-off list: %q", method, path, got)
		}
		if pushStopped() {
			t.Fatalf("%s %s stopped pushes", method, path)
		}
	}
	const form = "application/x-www-form-urlencoded"
	oversized := func() io.Reader {
		return strings.NewReader("ips=" + strings.Repeat("10.0.0.2,", opshttp.MaxBody/9+1))
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("ips", "10.0.0.2")
	_ = mw.Close()

	for _, p := range []string{"/api/clientManager/clientOff", "/api/clientManager/clientOpen"} {
		f("POST", p, form, strings.NewReader("ips=%zz"), http.StatusBadRequest)             // bad escape
		f("POST", p+"?ips=%zz", form, strings.NewReader(""), http.StatusBadRequest)         // bad escape in the query
		f("POST", p, form, strings.NewReader("ips="), http.StatusBadRequest)                // none
		f("POST", p, form, strings.NewReader("other=10.0.0.1"), http.StatusBadRequest)      // wrong field
		f("POST", p, form, strings.NewReader("ips=10.0.0.1,10.0.0"), http.StatusBadRequest) // one malformed: none applied
		f("POST", p, form, strings.NewReader("ips=10.0.0.1;10.0.0.2"), http.StatusBadRequest)
		f("POST", p, form, strings.NewReader("ips=host.example"), http.StatusBadRequest)
		f("POST", p, form, strings.NewReader("ips=10.0.0.1:80"), http.StatusBadRequest)
		f("POST", p, form, strings.NewReader("ips=fe80::1%25eth0"), http.StatusBadRequest)
		f("POST", p, form, strings.NewReader("ips=0.0.0.0"), http.StatusBadRequest) // no client has these
		f("POST", p, form, strings.NewReader("ips=::"), http.StatusBadRequest)
		f("POST", p, form, strings.NewReader("ips=224.0.0.1"), http.StatusBadRequest)
		f("POST", p, form, strings.NewReader("ips=255.255.255.255"), http.StatusBadRequest)
		f("POST", p, form, strings.NewReader("ips=\x00\xff"), http.StatusBadRequest)
		f("POST", p, "application/json", strings.NewReader(`{"ips":"10.0.0.1"}`), http.StatusBadRequest)
		f("POST", p, mw.FormDataContentType(), bytes.NewReader(mp.Bytes()), http.StatusBadRequest)
		f("POST", p, form, oversized(), http.StatusRequestEntityTooLarge)
		f("GET", p+"?ips=10.0.0.2", "", nil, http.StatusMethodNotAllowed)
		f("PUT", p, form, strings.NewReader("ips=10.0.0.2"), http.StatusMethodNotAllowed)
	}
	// The push switch takes no input, but an oversized body is refused
	// before it acts, whatever its type.
	f("POST", "/api/push/stop", form, oversized(), http.StatusRequestEntityTooLarge)
	f("POST", "/api/push/stop", "application/octet-stream", oversized(), http.StatusRequestEntityTooLarge)
	f("POST", "/api/push/stop?x=%zz", "", nil, http.StatusBadRequest)
	f("DELETE", "/api/push/stop", "", nil, http.StatusMethodNotAllowed)
}
