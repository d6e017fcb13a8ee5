package opshttp

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/internal/buildinfo"
)

func init() {
	// # HELP and # TYPE lines: Prometheus and promtool read them.
	metrics.ExposeMetadata(true)
}

// Each role's HTTP port exports its own metrics only, so that scraping the
// three ports of `roster integrated` counts nothing twice: a role owns the
// metrics named after it (roster_<role>_*, and roster_push_* for sessions)
// and the network metrics of its server (roster_netio_*{server="<role>"}).
// The metrics of the process (go_*, process_*) and every other metric are
// exported once, by the port that started first (the process's "shared"
// port; in integrated: meta's). roster_build_info is on every port.
var rolePrefixes = map[string][]string{
	"meta":    {"roster_meta_"},
	"data":    {"roster_data_"},
	"session": {"roster_session_", "roster_push_"},
}

const netioPrefix = "roster_netio_"

// helps are the # HELP texts of metric families (Describe).
var helps sync.Map // family -> text

// Describe sets the # HELP text of metric families: family name -> text.
// A family without one gets an empty # HELP line.
func Describe(texts map[string]string) {
	for k, v := range texts {
		helps.Store(k, strings.ReplaceAll(v, "\n", " "))
	}
}

func init() {
	Describe(map[string]string{
		"roster_build_info":                        "The running build: version, VCS revision and Go version (always 1).",
		"roster_http_admin_refused_total":          "Admin HTTP requests refused for a missing or wrong token (or a non-loopback client without one).",
		"roster_http_admin_bad_requests_total":     "Admin HTTP requests refused for a malformed or oversized form.",
		"roster_http_connections":                  "Open connections to the process's HTTP servers (each holds at most a sixteenth of the open-files limit, 1024 at most; more wait in the backlog).",
		"roster_http_refused_total":                "Connections to the process's HTTP servers closed at once, by limit (conns_per_ip: their source IP held a quarter of the server's connection cap).",
		"roster_netio_conns":                       "Open connections of an RPC server.",
		"roster_netio_conns_accepted_total":        "Connections an RPC server accepted.",
		"roster_netio_frames_in_total":             "Frames an RPC server read.",
		"roster_netio_frames_out_total":            "Frames an RPC server wrote.",
		"roster_netio_bytes_in_total":              "Bytes an RPC server read.",
		"roster_netio_bytes_out_total":             "Bytes an RPC server wrote.",
		"roster_netio_bad_frames_total":            "Malformed frames; their connections were closed.",
		"roster_netio_slow_consumer_cutoffs_total": "Connections closed for holding too many bytes unwritten.",
		"roster_netio_idle_closes_total":           "Connections closed after their idle timeout.",
		"roster_netio_handshake_timeouts_total":    "Connections closed for not completing their handshake in time.",
		"roster_netio_flush_wait_seconds":          "Per write of a connection, how long frames queued from outside its event loop (pushes, requests) waited for the loop to write them; replies written while it reads are not timed.",
	})
}

// sharedOwner is the server exporting the process's shared metrics.
var sharedOwner atomic.Pointer[Server]

// SetRole names the role whose metrics this server exports (see above).
// Without a role a server exports every metric. Call it before Start.
func (s *Server) SetRole(role string) { s.role = role }

func (s *Server) claimShared()   { sharedOwner.CompareAndSwap(nil, s) }
func (s *Server) releaseShared() { sharedOwner.CompareAndSwap(s, nil) }

var scrapeBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (s *Server) handleMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	buf := scrapeBufs.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); scrapeBufs.Put(buf) }()
	shared := s.role == "" || sharedOwner.Load() == s
	metrics.WritePrometheus(buf, shared)
	writeBuildInfo(w)
	filterMetrics(w, buf, s.role, shared)
}

// writeBuildInfo writes roster_build_info, whose labels say which build runs.
func writeBuildInfo(w io.Writer) {
	bi := buildinfo.Get()
	help, _ := helps.Load("roster_build_info")
	fmt.Fprintf(w, "# HELP roster_build_info %s\n# TYPE roster_build_info gauge\n", help)
	fmt.Fprintf(w, "roster_build_info{version=%q,revision=%q,goversion=%q} 1\n", bi.Version, bi.Revision, bi.GoVersion)
}

// filterMetrics copies the lines of an exposition that role exports (all
// of them without a role), and each family's # HELP and # TYPE once.
func filterMetrics(w io.Writer, exposition io.Reader, role string, shared bool) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	meta := map[string]bool{} // "HELP name", "TYPE name" already written
	sc := bufio.NewScanner(exposition)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if kind, name, ok := metadataLine(line); ok {
			if meta[kind+" "+name] || role != "" && !exports(role, shared, name, "", true) {
				continue
			}
			meta[kind+" "+name] = true
			if text, ok := helps.Load(name); ok && kind == "HELP" {
				line = "# HELP " + name + " " + text.(string)
			}
		} else if role != "" {
			name, labels := splitSample(line)
			if !exports(role, shared, name, labels, false) {
				continue
			}
		}
		bw.WriteString(line)
		bw.WriteByte('\n')
	}
}

// exports reports whether role's port exports the metric name (with its
// labels; metadata lines have none).
func exports(role string, shared bool, name, labels string, metadata bool) bool {
	if strings.HasPrefix(name, netioPrefix) {
		return metadata || strings.Contains(labels, `server="`+role+`"`)
	}
	for r, prefixes := range rolePrefixes {
		for _, p := range prefixes {
			if strings.HasPrefix(name, p) {
				return r == role
			}
		}
	}
	return shared
}

// metadataLine parses "# HELP name ..." and "# TYPE name type".
func metadataLine(line string) (kind, name string, ok bool) {
	rest, ok := strings.CutPrefix(line, "# ")
	if !ok {
		return "", "", false
	}
	kind, rest, _ = strings.Cut(rest, " ")
	name, _, _ = strings.Cut(rest, " ")
	return kind, name, kind == "HELP" || kind == "TYPE"
}

// splitSample returns the name and the label set ("{...}", or "") of a sample line.
func splitSample(line string) (name, labels string) {
	end := strings.IndexAny(line, "{ ")
	if end < 0 {
		return line, ""
	}
	if line[end] == ' ' {
		return line[:end], ""
	}
	close := strings.LastIndexByte(line, '}')
	if close < end {
		return line[:end], ""
	}
	return line[:end], line[end : close+1]
}
