package netio

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// TestServerListenerSurvivesFdExhaustion: when accept fails for want of
// file descriptors, gnet stops its engine; the server says it is not
// serving (Serving, listener_up) and starts it again on the same port once
// descriptors are free. The test lowers this process's open-files limit.
func TestServerListenerSurvivesFdExhaustion(t *testing.T) {
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Skip(err)
	}
	h := newTestHandler()
	s := startServer(t, ServerConfig{Name: "test-fds", Loops: 1}, h)
	open, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	low := old
	low.Cur = uint64(len(open) + 20)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Skip(err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer restore()
	// Fill the descriptor table but one with /dev/null, then dial: the
	// dialer's socket takes the last one, so the server's accept fails.
	var fill []*os.File
	defer func() {
		for _, f := range fill {
			f.Close()
		}
	}()
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			break
		}
		fill = append(fill, f)
	}
	if len(fill) == 0 {
		t.Fatal("no descriptor left to fill")
	}
	// Free one descriptor at a time and dial: the dialer's socket takes
	// it, so the server's accept fails (other goroutines of this process
	// may take one too: then free another).
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 20 && len(fill) > 0 && s.Serving() == nil; i++ {
		fill[len(fill)-1].Close()
		fill = fill[:len(fill)-1]
		if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
			conns = append(conns, c)
		}
		time.Sleep(20 * time.Millisecond) // the accept runs on the event loop
	}
	waitFor(t, "the failed accept", func() bool { return s.Serving() != nil })
	if s.Serving() == nil {
		t.Fatal("the listener never reported a failed accept")
	}
	if got := metrics.GetOrCreateGauge(`roster_netio_listener_up{server="test-fds"}`, nil).Get(); got != 0 {
		t.Fatalf("listener_up %v while down", got)
	}
	restore()
	for _, f := range fill {
		f.Close()
	}
	fill = nil
	waitFor(t, "the listener back", func() bool { return s.Serving() == nil })
	c := dialRaw(t, s.Addr())
	if _, err := c.Write(frameOf(1, pub([]byte("after")))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a frame after the restart", func() bool { return h.frames.Load() > 0 })
}
