package netio

import (
	"runtime"
	"sync"
)

// Each gnet event loop waits in a blocking epoll_wait that the runtime sees
// as a syscall still holding its P; sysmon takes the P back only on its next
// tick, up to 10 ms later on an idle process. With as many loops as Ps,
// every P can be parked that way at once, and a timer or goroutine readied
// meanwhile (a debounce firing, a reply to hand on) waits for sysmon: a
// 10 ms stall a few times a second, in a registry whose push path is 20 ms
// of debounce and 3 ms of work. So each running loop gets a P of its own on
// top of those Go code runs on (see golang/go#76290). The extra Ps are not
// reserved: under load any goroutine may run on one, and the OS shares the
// cores as it does among any threads.
var procs struct {
	sync.Mutex
	base  int // GOMAXPROCS before the first loop was added
	loops int // event loops running in the process
}

// cpuProcs is GOMAXPROCS without the Ps added for event loops: the
// default number of loops of a server.
func cpuProcs() int {
	procs.Lock()
	defer procs.Unlock()
	if procs.loops > 0 {
		return procs.base
	}
	return runtime.GOMAXPROCS(0)
}

// addLoops raises (n > 0) or lowers (n < 0) GOMAXPROCS by n event loops;
// once none is left it is what it was before the first.
func addLoops(n int) {
	procs.Lock()
	defer procs.Unlock()
	if procs.loops == 0 {
		procs.base = runtime.GOMAXPROCS(0)
	}
	procs.loops += n
	runtime.GOMAXPROCS(procs.base + procs.loops)
}
