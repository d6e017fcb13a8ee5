package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestLiveHeap(t *testing.T) {
	body := "# HELP go_gc_heap_live_bytes x\n# TYPE go_gc_heap_live_bytes gauge\ngo_gc_heap_live_bytes_other 5\ngo_gc_heap_live_bytes 1.2345e+06\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/none" {
			w.Write([]byte("go_memstats_heap_alloc_bytes 7\n"))
			return
		}
		w.Write([]byte(body))
	}))
	defer srv.Close()
	v, err := LiveHeap(context.Background(), srv.URL+"/metrics")
	if err != nil || v != 1234500 {
		t.Fatalf("live heap %d, %v; want 1234500", v, err)
	}
	if v, err := LiveHeap(context.Background(), srv.URL+"/none"); err == nil {
		t.Fatalf("no metric: %d, no error", v)
	}
}

func TestReadMetricsSumsSeries(t *testing.T) {
	body := "# TYPE a_total counter\na_total{peer=\"x\"} 2\na_total{peer=\"y\",why=\"}\"} 3\na_total_other 9\nb 1.5 1700000000\nc{x=\"1\"} notanumber\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
	defer srv.Close()
	m, err := ReadMetrics(context.Background(), srv.URL, "a_total", "b", "missing")
	if err != nil || m["a_total"] != 5 || m["b"] != 1.5 || len(m) != 2 {
		t.Fatalf("read %v, %v; want a_total 5, b 1.5 and nothing else", m, err)
	}
	if _, err := ReadMetrics(context.Background(), srv.URL, "c"); err == nil {
		t.Fatal("a value that is not a number: no error")
	}
}
