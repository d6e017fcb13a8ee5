//go:build linux

package memtrim

import (
	"runtime"
	"testing"
	"time"
)

// TestThreadCPUIsTheThreads: threadCPU counts the calling thread only. A
// goroutine burns CPU on another thread while this one, locked to its
// thread, sleeps: the process's CPU counts the burn, the thread's does not.
func TestThreadCPUIsTheThreads(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	thread0, process0 := threadCPU(), processCPU()
	if thread0 == 0 || process0 == 0 {
		t.Fatalf("threadCPU %v, processCPU %v: the OS said nothing", thread0, process0)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for start := processCPU(); processCPU()-start < 100*time.Millisecond; {
		}
	}()
	<-done
	thread, process := threadCPU()-thread0, processCPU()-process0
	if process < 100*time.Millisecond || thread >= process/2 {
		t.Fatalf("across another goroutine's burn the thread used %v, the process %v", thread, process)
	}

	// And the thread's own work counts: it burns until its thread has
	// used 20 ms, or the process a second (which fails).
	thread0, process0 = threadCPU(), processCPU()
	for threadCPU()-thread0 < 20*time.Millisecond && processCPU()-process0 < time.Second {
	}
	if thread := threadCPU() - thread0; thread < 20*time.Millisecond {
		t.Fatalf("the thread's own burn counted %v of %v of the process's", thread, processCPU()-process0)
	}
}
