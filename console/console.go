// Package console is roster's web console: static HTML, CSS and
// JavaScript embedded in the binary (no build step), served by meta under
// /console/. The page reads and changes the cluster through meta's JSON
// endpoints under /console/api/ (docs/http-api.md), which any meta node
// forwards to the leader; admin actions send the admin token the operator
// typed into the login form (kept in the tab's sessionStorage, never in a URL).
package console

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed assets
var assets embed.FS

// Handler serves the console's files under prefix (e.g. "/console/").
func Handler(prefix string) http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.StripPrefix(prefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// The page loads nothing from elsewhere and may not be framed.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
