package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestFromBuild(t *testing.T) {
	f := func(stamp, mainVersion string, settings map[string]string, want, wantString string) {
		t.Helper()
		bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: mainVersion}}
		for k, v := range settings {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: k, Value: v})
		}
		got := fromBuild(stamp, bi)
		if got.Version != want || got.String() != wantString {
			t.Fatalf("stamp %q main %q %v: got %q / %q, want %q / %q", stamp, mainVersion, settings, got.Version, got.String(), want, wantString)
		}
	}
	rev := map[string]string{"vcs.revision": "0123456789abcdef0123", "vcs.time": "2026-12-01T10:00:00Z", "vcs.modified": "false"}
	dirty := map[string]string{"vcs.revision": "0123456789abcdef0123", "vcs.modified": "true"}
	f("v1.2.3", "(devel)", rev, "v1.2.3", "v1.2.3 (0123456789ab) go1.26.8") // make build
	f("", "v1.2.4", nil, "v1.2.4", "v1.2.4 go1.26.8")                       // go install ...@v1.2.4
	f("", "(devel)", rev, "0123456789ab", "0123456789ab go1.26.8")          // go build in a checkout
	f("", "(devel)", dirty, "0123456789ab-dirty", "0123456789ab-dirty go1.26.8")
	f("", "(devel)", nil, "dev", "dev go1.26.8") // go build without VCS information
}
