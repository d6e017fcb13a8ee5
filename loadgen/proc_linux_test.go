package loadgen

import (
	"net"
	"os"
	"testing"
)

func TestProcFiguresOfSelf(t *testing.T) {
	if rss, err := ProcRSS(os.Getpid()); err != nil || rss <= 0 {
		t.Fatalf("ProcRSS = %d, %v", rss, err)
	}
	if _, err := ProcCPU(os.Getpid()); err != nil {
		t.Fatalf("ProcCPU: %v", err)
	}
	if cpu, maxRSS := selfUsage(); cpu <= 0 || maxRSS <= 0 {
		t.Fatalf("selfUsage = %v, %d", cpu, maxRSS)
	}
}

func TestPidListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pid, err := pidListening(ln.Addr().(*net.TCPAddr).Port)
	if err != nil || pid != os.Getpid() {
		t.Fatalf("pidListening = %d, %v; want %d", pid, err, os.Getpid())
	}
}

func TestEndpointPort(t *testing.T) {
	f := func(ep string, want int) {
		t.Helper()
		got, err := endpointPort(ep)
		if want < 0 {
			if err == nil {
				t.Fatalf("endpointPort(%q) = %d, want an error", ep, got)
			}
			return
		}
		if err != nil || got != want {
			t.Fatalf("endpointPort(%q) = %d, %v; want %d", ep, got, err, want)
		}
	}
	f("127.0.0.1:9600", 9600)
	f("http://127.0.0.1:2379", 2379)
	f("[::1]:80", 80)
	f("localhost", -1)
	f("http://host:port", -1)
}
