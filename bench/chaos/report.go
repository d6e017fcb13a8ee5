package chaos

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/roster-registry/roster/internal/proccluster"
)

// Report is the outcome of a chaos run.
type Report struct {
	Config            Config
	Started, Finished time.Time
	Results           []FaultResult
	Monitor           proccluster.MonitorSummary
}

// FaultResult is every run of one fault.
type FaultResult struct {
	Name, What string
	Skipped    string // why the fault did not run, if it did not
	Runs       []Trial
}

// Trial is one injection of a fault.
type Trial struct {
	// Recovery is the longest of the phases: from a fault's event (a kill,
	// a stop, a resume, a heal) to every subscriber correct again.
	Recovery  time.Duration
	Recovered bool     // every phase ended with every subscriber correct within the deadline
	Phases    []string // each phase's recovery
	// Synced, for a data node's loss (SyncWatched), is the time from it
	// until every slot had a leader and a synced follower again; -1 when
	// that did not happen within the deadline (then Recovered is false).
	Synced      time.Duration
	SyncWatched bool
	// Lost counts live, acknowledged publishers missing from a subscriber's
	// final list; Stale the subscribers whose list was wrong at a deadline.
	Lost, Stale int
	// WatchLost counts the watchers that a config change made during the
	// fault did not reach within the deadline after the fault.
	WatchLost int
	// Vanished counts live publishers missing from a push after an earlier
	// push showed them; Back the publishers whose version went back.
	Vanished, Back int64
	OpErrors       int64    // churn calls that failed after retrying proccluster.OpTimeout
	Safety         []string // two leaders, promotions of non-followers, epochs going down, a session down
	// DC is what a fault of the link between data centers measured on
	// both; nil for the other faults.
	DC      *DCTrial
	Notes   []string
	Details []string // longer descriptions for the log
	Err     string   // the runner could not carry the fault out
}

// Failed reports whether the run broke a correctness rule: something lost,
// a phase not recovered, a safety violation, a churn call failed, a global
// subscriber lost a publisher (a DC fault's flap) or the fault could not
// be carried out.
func (r Trial) Failed() bool {
	return r.Lost > 0 || r.WatchLost > 0 || !r.Recovered || len(r.Safety) > 0 || r.OpErrors > 0 || r.Err != "" ||
		(r.DC != nil && r.DC.Flaps > 0)
}

func (r Trial) summary() string {
	s := fmt.Sprintf("recovery %s (%s), lost %d, stale %d, vanished %d, back %d, failed calls %d, watchers lost %d",
		fmtDur(r.Recovery), strings.Join(r.Phases, ", "), r.Lost, r.Stale, r.Vanished, r.Back, r.OpErrors, r.WatchLost)
	if r.SyncWatched {
		s += ", followers synced " + fmtDur(r.Synced)
	}
	if d := r.DC; d != nil {
		s += fmt.Sprintf(", cross-DC converged %s, lost dc1/dc2 %d/%d, stale %d/%d, flaps %d",
			fmtDur(d.Converged), d.Lost[0], d.Lost[1], d.Stale[0], d.Stale[1], d.Flaps)
	}
	for _, l := range [][]string{r.Notes, r.Safety, r.Details} {
		for _, n := range l {
			s += "\n    " + n
		}
	}
	if r.Err != "" {
		s += "\n    error: " + r.Err
	}
	return s
}

// Failures lists every failed run, described.
func (rep *Report) Failures() []string {
	var out []string
	for _, f := range rep.Results {
		for i, r := range f.Runs {
			if r.Failed() {
				out = append(out, fmt.Sprintf("%s run %d: %s", f.Name, i+1, r.summary()))
			}
		}
	}
	return out
}

func fmtDur(d time.Duration) string {
	if d < 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func fmtBytes(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// medianMax formats the median and the maximum of ds ("—" when empty).
func medianMax(ds []time.Duration) (string, string) {
	if len(ds) == 0 {
		return "—", "—"
	}
	slices.Sort(ds)
	return fmtDur(ds[(len(ds)-1)/2]), fmtDur(ds[len(ds)-1])
}

// cell escapes text for a markdown table cell.
func cell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }

// WriteMarkdown writes the report: the set-up, one row per fault, and the
// notes of every run. command is how the run was started.
func (rep *Report) WriteMarkdown(w io.Writer, command string) error {
	cfg := rep.Config
	var b strings.Builder
	fmt.Fprintf(&b, "# roster chaos — %s\n\n", rep.Started.Format("2006-01-02"))
	fmt.Fprintf(&b, "Command: `%s`  \n", command)
	fmt.Fprintf(&b, "Run: %s to %s (%s).\n\n", rep.Started.Format("15:04:05"), rep.Finished.Format("15:04:05"),
		rep.Finished.Sub(rep.Started).Round(time.Second))
	fmt.Fprintf(&b, "**Cluster**: %d meta (MySQL store on a private MariaDB started by the runner), %d data, %d session processes of one binary on this machine; %d slots, %d replicas; node lease %v, meta leader lease %v, client heartbeat %v.",
		cfg.Metas, cfg.Datas, cfg.Sessions, cfg.Slots, cfg.Replicas, cfg.NodeLease, cfg.LeaderLease, cfg.ClientHeartbeat)
	if cfg.TLS {
		b.WriteString(" Links between nodes: mutual TLS (a CA of the run's own, a certificate per node).")
	} else {
		b.WriteString(" Links between nodes: authenticated by a cluster secret, without TLS.")
	}
	if len(cfg.Args) > 0 {
		fmt.Fprintf(&b, " Extra flags: %v.", cfg.Args)
	}
	fmt.Fprintf(&b, "  \n**Workload**: %d services, each with 2 publishers and 1 subscriber to start with, on %d SDK clients connected to every session; churn %d changes/s (70%% republish, 15%% new publisher, 15%% unpublish; 1 to 4 publishers a service), running from 1 s before each fault until %v after its event.  \n",
		cfg.Services, cfg.Clients, cfg.Rate, cfg.ChurnAfter)
	fmt.Fprintf(&b, "**Repeats**: %d of each fault; deadline %v per recovery; outage %v (MariaDB, slow subscribers).\n\n", cfg.Repeats, cfg.Deadline, cfg.Outage)
	b.WriteString("**Recovery** is the time from a fault's event (kill, stop, resume, heal, last restart) until every subscriber's list equals the live publishers; a fault with two events (isolate and return) reports the longer. " +
		"**lost**: live, acknowledged publishers missing from a subscriber's final list (a deadline, then one more). **stale**: subscribers whose list was wrong at a deadline. " +
		"**vanished**: a live publisher missing from a push after an earlier push showed it (informative: it came back). " +
		"**followers synced**: after a data node's loss (or the restart of every node), the time until every slot of the meta leader's table has a leader and a synced follower again, neither the node lost (a second failure meanwhile finds nothing synced to promote). " +
		"**watchers lost**: every SDK client watches a config key, which the runner changes on the meta leader 1.5 s into each fault (retrying until a leader takes it); a watcher not holding the new value within the deadline after the fault counts as lost. " +
		"Targets: every subscriber correct within 10 s of any single fault, 30 s of the meta leader's loss and of restart-all; every slot with a synced follower within 10 s of a data node's loss; lost = 0.\n\n")
	b.WriteString("| fault | repeats | recovery p50 | recovery max | followers synced p50 | followers synced max | lost | stale | vanished | watchers lost | notes |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, f := range rep.Results {
		if f.Skipped != "" {
			fmt.Fprintf(&b, "| %s | 0 | — | — | — | — | — | — | — | — | skipped: %s |\n", f.Name, cell(f.Skipped))
			continue
		}
		var recs, syncs []time.Duration
		watched := 0
		lost, stale, watchLost := 0, 0, 0
		var vanished, back, opErrs int64
		failedRuns := 0
		var notes []string
		for _, r := range f.Runs {
			if r.Recovered {
				recs = append(recs, r.Recovery)
			}
			if r.SyncWatched {
				watched++
				if r.Synced >= 0 {
					syncs = append(syncs, r.Synced)
				}
			}
			lost += r.Lost
			watchLost += r.WatchLost
			stale += r.Stale
			vanished += r.Vanished
			back += r.Back
			opErrs += r.OpErrors
			if r.Failed() {
				failedRuns++
			}
			notes = append(notes, r.Safety...)
			if r.Err != "" {
				notes = append(notes, "error: "+r.Err)
			}
		}
		p50, most := medianMax(recs)
		syncP50, syncMost := medianMax(syncs)
		if len(syncs) < watched {
			notes = append(notes, fmt.Sprintf("%d of %d runs left slots without a synced follower past the deadline", watched-len(syncs), watched))
		}
		if len(recs) < len(f.Runs) {
			notes = append(notes, fmt.Sprintf("%d of %d runs did not recover within the deadline", len(f.Runs)-len(recs), len(f.Runs)))
		}
		if back > 0 {
			notes = append(notes, fmt.Sprintf("%d versions went back", back))
		}
		if opErrs > 0 {
			notes = append(notes, fmt.Sprintf("%d churn calls failed", opErrs))
		}
		if len(f.Runs) > 0 {
			notes = append(notes, f.Runs[0].Notes...)
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %d | %d | %d | %d | %s |\n", f.Name, len(f.Runs), p50, most, syncP50, syncMost,
			lost, stale, vanished, watchLost, cell(strings.Join(notes, "; ")))
	}
	writeDCSection(&b, rep.Results)
	b.WriteString("\n## Faults\n\n")
	for _, f := range rep.Results {
		fmt.Fprintf(&b, "- **%s**: %s.\n", f.Name, f.What)
	}
	b.WriteString("\n## Every run\n\n")
	for _, f := range rep.Results {
		for i, r := range f.Runs {
			fmt.Fprintf(&b, "- %s #%d: %s\n", f.Name, i+1, strings.ReplaceAll(r.summary(), "\n    ", "\n  - "))
		}
	}
	m := rep.Monitor
	fmt.Fprintf(&b, "\nSlot table epochs seen by the monitor: %d distinct, %d to %d; went down %d times; a new meta leader answered with an empty table %d times.\n",
		m.Distinct, m.First, m.Last, len(m.Decreases), m.Empty)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeDCSection writes the cross-data-center convergence of the DC
// faults, if any ran.
func writeDCSection(b *strings.Builder, results []FaultResult) {
	header := false
	for _, f := range results {
		var conv []time.Duration
		var lost, stale [2]int
		var flaps int64
		runs := 0
		for _, r := range f.Runs {
			d := r.DC
			if d == nil {
				continue
			}
			runs++
			if d.Converged >= 0 {
				conv = append(conv, d.Converged)
			}
			for i := range lost {
				lost[i] += d.Lost[i]
				stale[i] += d.Stale[i]
			}
			flaps += d.Flaps
		}
		if runs == 0 {
			continue
		}
		if !header {
			header = true
			b.WriteString("\n## Cross-data-center convergence\n\n" +
				"A second data center, dc2 (1 meta on SQLite, 2 data, 1 session; in a network namespace of its own when the runner may make one, else on loopback without the two partitions), shares dc1's credentials and is linked to it both ways. " +
				fmt.Sprintf("%d services are published once in each data center, each with a global subscriber in each, and republished on both sides at %d/s each from 1 s before a fault until the churn-after time past its event. ", dcServices, dcRate) +
				"**converged**: from the event (heal, kill, return, restart) until every global subscriber of both data centers holds exactly both publishers at their latest data (a fault with two events reports the longer). " +
				"**lost** and **stale** per data center as above, for the global subscribers of dc1 (which import dc2) and of dc2. " +
				"**flaps**: a publisher missing from a global subscriber's push after a push showed it (none is ever removed: each flap is a publisher a data center dropped and imported again); any flap fails the run. " +
				"A slot leader exports a slot it rebuilt from its sessions (after restart-remote-dc: every slot of dc2) once its replay window (data --replay-window, 10 s by default) passed, so that convergence includes it.\n\n" +
				"| fault | runs | converged p50 | converged max | lost dc1/dc2 | stale dc1/dc2 | flaps |\n|---|---|---|---|---|---|---|\n")
		}
		p50, most := medianMax(conv)
		fmt.Fprintf(b, "| %s | %d | %s | %s | %d/%d | %d/%d | %d |\n", f.Name, runs, p50, most, lost[0], lost[1], stale[0], stale[1], flaps)
	}
}
