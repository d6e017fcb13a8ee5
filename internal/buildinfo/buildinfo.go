// Package buildinfo tells which roster a binary is: the version stamped at
// link time by `make build`, or else what the Go toolchain recorded (the
// module version for `go install ...@v1.2.3`, the VCS revision for a plain
// `go build` in a checkout).
package buildinfo

import (
	"runtime/debug"
	"sync"
)

// Version is set with -ldflags "-X .../internal/buildinfo.Version=v1.2.3".
// Read it through Get, which falls back to the build's own record.
var Version = ""

// Info describes a binary.
type Info struct {
	Version   string // v1.2.3, a git describe, a revision, or "dev"
	Revision  string // VCS commit, when recorded
	Time      string // VCS commit time (RFC 3339), when recorded
	Modified  bool   // built from a tree with uncommitted changes
	GoVersion string
}

var get = sync.OnceValue(func() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return fromStamp(Info{Version: Version})
	}
	return fromBuild(Version, bi)
})

// Get returns the binary's build information.
func Get() Info { return get() }

func fromStamp(i Info) Info {
	if i.Version == "" {
		i.Version = "dev"
	}
	return i
}

// fromBuild fills Info from a link-time stamp and the toolchain's record.
func fromBuild(stamp string, bi *debug.BuildInfo) Info {
	i := Info{Version: stamp, GoVersion: bi.GoVersion}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
		case "vcs.time":
			i.Time = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	if i.Version == "" {
		switch v := bi.Main.Version; {
		case v != "" && v != "(devel)":
			i.Version = v // go install module@version
		case i.Revision != "":
			i.Version = shortRevision(i.Revision)
			if i.Modified {
				i.Version += "-dirty"
			}
		}
	}
	return fromStamp(i)
}

func shortRevision(r string) string {
	if len(r) > 12 {
		return r[:12]
	}
	return r
}

// String is what `roster version` prints.
func (i Info) String() string {
	s := i.Version
	if i.Revision != "" && i.Version != shortRevision(i.Revision) && i.Version != shortRevision(i.Revision)+"-dirty" {
		s += " (" + shortRevision(i.Revision)
		if i.Modified {
			s += ", modified"
		}
		s += ")"
	}
	if i.GoVersion != "" {
		s += " " + i.GoVersion
	}
	return s
}
