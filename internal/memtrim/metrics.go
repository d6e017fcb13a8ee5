package memtrim

import (
	"runtime/metrics"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/roster-registry/roster/internal/opshttp"
)

// The trimmer's metrics are the process's (one trimmer a process): the
// port exporting go_* and process_* exports them too.
var (
	trims        = vm.NewCounter(`roster_memory_trims_total`)
	trimmedBytes = vm.NewCounter(`roster_memory_trimmed_bytes_total`)
	trimSeconds  = vm.NewFloatCounter(`roster_memory_trim_seconds_total`)
	// How trims ended (release): why one returned nothing shows here. At
	// 10M a session's trims returned nothing now and then, with memory
	// free, for a reason not known (bench/results/scale-2026-12-06-idle-alloc.md).
	endsNoStep = vm.NewCounter(`roster_memory_trim_ends_total{reason="no_safe_step"}`)
	endsLittle = vm.NewCounter(`roster_memory_trim_ends_total{reason="little_steps"}`)
	endsDone   = vm.NewCounter(`roster_memory_trim_ends_total{reason="done"}`)
)

func init() {
	opshttp.Describe(map[string]string{
		"roster_memory_trims_total": "Trims by the memory trimmer (--memory-trim): a quiet process's free memory returned to the OS after a collection.",
		"roster_memory_trimmed_bytes_total": "Memory the trimmer returned to the OS (held from the OS before one, minus after; " +
			"the process takes it back as it allocates again).",
		"roster_memory_trim_ends_total": "Trims by how they ended: no_safe_step (no step could be taken without starting a collection), " +
			"little_steps (four steps in a row returned under half of theirs: the runtime did not return what is free), done (what was free is returned).",
		"roster_memory_trim_seconds_total": "What the trimmer's trims cost: the CPU of the thread that ran them (the process's elsewhere than Linux) " +
			"(a trim waits a hundred times its cost before the next, so this grows by at most 1% of the time).",
	})
}

// The runtime/metrics a tick and a trim's step read.
var names = []string{
	"/gc/heap/allocs:bytes",
	"/gc/heap/live:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/objects:bytes",
	"/gc/cycles/total:gc-cycles",
}

// readRuntime reads a sample from runtime/metrics (no stop of the world)
// and the process's CPU.
func readRuntime() sample {
	s := make([]metrics.Sample, len(names))
	for i, n := range names {
		s[i].Name = n
	}
	metrics.Read(s)
	u := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	held := u(2)
	if r := u(3); r < held {
		held -= r
	} else {
		held = 0
	}
	return sample{allocs: u(0), live: u(1), held: held, free: u(4), objects: u(5), gcs: u(6), cpu: processCPU()}
}
