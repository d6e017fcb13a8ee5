package netio

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
)

// TestStopLeavesNoAcceptedConnOpen: connections dialed while the server
// stops are served or closed, never accepted and then left open. gnet's
// stop used to signal the event loops before the acceptor: a connection
// accepted in between was handed to a loop that had exited, and stayed
// open with nobody reading it, so a client reconnecting to a restarting
// session waited for its handshake's answer until its timeout.
// Checked by the kernel's table of sockets once Stop has returned: no
// socket of the server's port may be left established.
func TestStopLeavesNoAcceptedConnOpen(t *testing.T) {
	for round := range 20 {
		s := NewServer(ServerConfig{Addr: "127.0.0.1:0", Name: "test-stop-accept", Loops: 4}, newTestHandler())
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(s.Addr())
		stop := make(chan struct{})
		busy := make(chan struct{}) // closed once some connections were dialed
		var once sync.Once
		var wg sync.WaitGroup
		var mu sync.Mutex
		var dialed []net.Conn
		for range 8 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					c, err := net.Dial("tcp", s.Addr())
					if err != nil {
						continue
					}
					mu.Lock()
					dialed = append(dialed, c)
					if len(dialed) >= 16 {
						once.Do(func() { close(busy) })
					}
					mu.Unlock()
				}
			})
		}
		<-busy
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		close(stop)
		wg.Wait()
		left := establishedOn(t, port)
		for _, c := range dialed {
			_ = c.Close()
		}
		if left > 0 {
			t.Fatalf("round %d: %d accepted connections left open after Stop (of %d dialed)", round, left, len(dialed))
		}
	}
}

// establishedOn counts the sockets bound to local port port (decimal)
// that are established or half-closed by the peer (CLOSE_WAIT): accepted
// by this process and not closed.
func establishedOn(t *testing.T, port string) int {
	t.Helper()
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}
	defer f.Close()
	var p int
	fmt.Sscan(port, &p)
	want := fmt.Sprintf(":%04X", p)
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasSuffix(fields[1], want) {
			continue
		}
		if st := fields[3]; st == "01" || st == "08" { // ESTABLISHED, CLOSE_WAIT
			n++
		}
	}
	return n
}
