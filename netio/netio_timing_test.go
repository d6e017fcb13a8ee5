package netio

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/roster-registry/roster/proto"
)

const (
	benchDepth = 32  // requests in flight per connection
	benchBody  = 128 // request body bytes
)

// echoHandler replies to every request with its body.
type echoHandler struct{}

func (echoHandler) OnOpen(*Conn)         {}
func (echoHandler) OnClose(*Conn, error) {}
func (echoHandler) OnFrame(c *Conn, f Frame) {
	if f.Header.RequestID != 0 {
		_ = c.Reply(f.Header.RequestID, &rawMsg{t: f.Header.Type, b: f.Body})
	}
}

// baselineServer is the same protocol on net.Conn with one goroutine per
// connection and buffered I/O, flushing before any read that would block.
type baselineServer struct {
	ln net.Listener
	wg sync.WaitGroup
	mu sync.Mutex
	cs map[net.Conn]struct{}
}

func startBaseline(tb testing.TB) *baselineServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &baselineServer{ln: ln, cs: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.cs[c] = struct{}{}
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c)
			}()
		}
	}()
	tb.Cleanup(func() {
		_ = ln.Close()
		s.mu.Lock()
		for c := range s.cs {
			_ = c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *baselineServer) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 32<<10)
	bw := bufio.NewWriterSize(c, 32<<10)
	var hdr [proto.HeaderSize]byte
	var out []byte
	for {
		if br.Buffered() < proto.HeaderSize && bw.Flush() != nil {
			return
		}
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return
		}
		h, err := proto.ParseHeader(hdr[:], proto.DefaultMaxBody)
		if err != nil {
			return
		}
		if br.Buffered() < int(h.Length) && bw.Flush() != nil {
			return
		}
		body, err := br.Peek(int(h.Length))
		if err != nil {
			return
		}
		out = proto.AppendFrame(out[:0], h.RequestID, proto.FlagReply, &rawMsg{t: h.Type, b: body})
		_, _ = br.Discard(int(h.Length))
		if _, err := bw.Write(out); err != nil {
			return
		}
	}
}

// pipelinedLoad sends n requests over the connections, benchDepth in
// flight on each, checking every reply's id, and returns the elapsed time.
func pipelinedLoad(cs []net.Conn, n int) (time.Duration, error) {
	batches := int64((n + benchDepth - 1) / benchDepth)
	var next atomic.Int64
	var failed atomic.Pointer[error]
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := pipelinedConn(c, &next, batches); err != nil {
				failed.CompareAndSwap(nil, &err)
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		return 0, *err
	}
	return time.Since(start), nil
}

func pipelinedConn(c net.Conn, next *atomic.Int64, batches int64) error {
	br := bufio.NewReaderSize(c, 32<<10)
	msg := pub(make([]byte, benchBody))
	var batch []byte
	var hdr [proto.HeaderSize]byte
	id := uint64(0)
	for next.Add(1) <= batches {
		batch = batch[:0]
		first := id + 1
		for range benchDepth {
			id++
			batch = proto.AppendFrame(batch, id, 0, msg)
		}
		if _, err := c.Write(batch); err != nil {
			return err
		}
		for want := first; want <= id; want++ {
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				return err
			}
			h, err := proto.ParseHeader(hdr[:], proto.DefaultMaxBody)
			if err != nil {
				return err
			}
			if h.RequestID != want || h.Flags != proto.FlagReply || h.Length != benchBody {
				return fmt.Errorf("reply %+v, want id %d", h, want)
			}
			if _, err := br.Discard(int(h.Length)); err != nil {
				return err
			}
		}
	}
	return nil
}

// BenchmarkPipelinedEcho compares the gnet server with a goroutine-per-
// connection net.Conn server on the same workload: the ratio of their req/s
// (and of the server CPU per request) at the same connection count is the
// figure of merit. The load comes from another process, so the server's own
// CPU time can be told apart.
func BenchmarkPipelinedEcho(b *testing.B) {
	for _, conns := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("conns=%d/server=gnet", conns), func(b *testing.B) {
			s := startServer(b, ServerConfig{Name: "bench"}, echoHandler{})
			runLoader(b, s.Addr(), conns)
		})
		b.Run(fmt.Sprintf("conns=%d/server=baseline", conns), func(b *testing.B) {
			s := startBaseline(b)
			runLoader(b, s.ln.Addr().String(), conns)
		})
	}
}

const loaderEnv = "NETIO_BENCH_LOADER" // "addr conns": run as the load generator

// runLoader drives b.N requests from a helper process (see TestHelperLoader)
// and reports req/s and the CPU this process spent per request.
func runLoader(b *testing.B, addr string, conns int) {
	h := startHelper(b, "^TestHelperLoader$", fmt.Sprintf("%s=%s %d", loaderEnv, addr, conns))
	defer h.stop()
	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	reply, err := h.ask(fmt.Sprintf("go %d", b.N))
	b.StopTimer()
	cpu := processCPU() - cpu0
	if err != nil {
		b.Fatal(err)
	}
	elapsed, err := time.ParseDuration(reply)
	if err != nil {
		b.Fatalf("loader: %q", reply)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "server-cpu-ns/req")
}

// TestHelperLoader is not a test: runLoader runs the test binary again with
// loaderEnv set. It dials, says "ready", then for every "go N" line sends N
// requests and answers with the elapsed time.
func TestHelperLoader(t *testing.T) {
	spec := os.Getenv(loaderEnv)
	if spec == "" {
		t.Skip("helper process for BenchmarkPipelinedEcho")
	}
	addr, countStr, _ := strings.Cut(spec, " ")
	count, _ := strconv.Atoi(countStr)
	cs := make([]net.Conn, count)
	for i := range cs {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		cs[i] = c
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		n, _ := strconv.Atoi(strings.TrimPrefix(in.Text(), "go "))
		d, err := pipelinedLoad(cs, n)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(d)
	}
	for _, c := range cs {
		_ = c.Close()
	}
	os.Exit(0)
}

// helperProc is the test binary run again as a helper, talking by lines.
type helperProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

func startHelper(tb testing.TB, run, env string) *helperProc {
	cmd := exec.Command(os.Args[0], "-test.run="+run, "-test.bench=^$")
	cmd.Env = append(os.Environ(), env)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	h := &helperProc{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	if line, err := h.line(); err != nil || line != "ready" {
		h.stop()
		tb.Fatalf("helper: %q %v", line, err)
	}
	return h
}

func (h *helperProc) line() (string, error) {
	line, err := h.out.ReadString('\n')
	line = strings.TrimSpace(line)
	if err == nil && strings.HasPrefix(line, "error") {
		err = errors.New(line)
	}
	return line, err
}

func (h *helperProc) ask(q string) (string, error) {
	if _, err := fmt.Fprintln(h.stdin, q); err != nil {
		return "", err
	}
	return h.line()
}

func (h *helperProc) stop() {
	_ = h.stdin.Close()
	_ = h.cmd.Wait()
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLinkRequest measures the client transport: many goroutines
// sharing one Link, each waiting for its reply.
func BenchmarkLinkRequest(b *testing.B) {
	s := startServer(b, ServerConfig{Name: "bench"}, echoHandler{})
	l := dialLink(b, s.Addr(), LinkConfig{})
	msg := pub(make([]byte, benchBody))
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Request(context.Background(), msg); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

const dialerEnv = "NETIO_BENCH_DIALER" // "addr count": run as the dialing helper

// TestHelperDialer is not a test: BenchmarkIdleConnMemory runs the test binary
// again with dialerEnv set, so that the client side of 10,000 connections
// lives in another process (and its own file descriptor table).
func TestHelperDialer(t *testing.T) {
	spec := os.Getenv(dialerEnv)
	if spec == "" {
		t.Skip("helper process for BenchmarkIdleConnMemory")
	}
	addr, countStr, _ := strings.Cut(spec, " ")
	count, _ := strconv.Atoi(countStr)
	cs := make([]net.Conn, 0, count)
	for range count {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		cs = append(cs, c)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin) // hold the connections until the parent is done
	for _, c := range cs {
		_ = c.Close()
	}
	os.Exit(0)
}

// BenchmarkIdleConnMemory reports the server's memory per idle connection
// with 10,000 connections open, for the gnet server and for the baseline.
// Run it with -benchtime=1x: each figure is measured once whatever b.N is.
func BenchmarkIdleConnMemory(b *testing.B) {
	const conns = 10000
	f := func(name string, start func(b *testing.B) (addr string, count func() int, stop func())) {
		var once sync.Once
		var heap, rss float64
		var err error
		b.Run(name, func(b *testing.B) {
			once.Do(func() {
				addr, count, stop := start(b)
				defer stop()
				heap, rss, err = measureIdleConns(b, addr, count, conns)
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(heap, "heap-B/conn")
			b.ReportMetric(rss, "rss-B/conn")
		})
	}
	f("server=gnet", func(b *testing.B) (string, func() int, func()) {
		s := NewServer(ServerConfig{Addr: "127.0.0.1:0", Name: "bench-idle"}, echoHandler{})
		if err := s.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		return s.Addr(), s.ConnCount, func() { _ = s.Stop(context.Background()) }
	})
	f("server=baseline", func(b *testing.B) (string, func() int, func()) {
		s := startBaseline(b)
		count := func() int {
			s.mu.Lock()
			defer s.mu.Unlock()
			return len(s.cs)
		}
		return s.ln.Addr().String(), count, func() {}
	})
}

// measureIdleConns opens conns connections to addr from a helper process
// and returns this process's heap and RSS growth per connection.
func measureIdleConns(b *testing.B, addr string, count func() int, conns int) (heap, rss float64, err error) {
	heap0, rss0 := memNow()
	h := startHelper(b, "^TestHelperDialer$", fmt.Sprintf("%s=%s %d", dialerEnv, addr, conns))
	defer h.stop()
	deadline := time.Now().Add(30 * time.Second)
	for count() < conns {
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("only %d of %d conns accepted", count(), conns)
		}
		time.Sleep(10 * time.Millisecond)
	}
	heap1, rss1 := memNow()
	return (float64(heap1) - float64(heap0)) / float64(conns), (float64(rss1) - float64(rss0)) / float64(conns), nil
}

// memNow returns live heap bytes (after a GC) and the resident set size.
func memNow() (heap, rss uint64) {
	runtime.GC()
	debug.FreeOSMemory() // so that RSS before and after compare
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap = ms.HeapAlloc
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		f := strings.Fields(string(b))
		if len(f) > 1 {
			pages, _ := strconv.ParseUint(f[1], 10, 64)
			rss = pages * uint64(os.Getpagesize())
		}
	}
	return heap, rss
}
