package counter

import (
	"strings"
	"sync"
	"testing"

	"github.com/VictoriaMetrics/metrics"
)

func TestCounterScrapedAsSum(t *testing.T) {
	const name = `roster_test_counter_total{case="sum"}`
	c := GetOrCreate(name)
	if GetOrCreate(name) != c {
		t.Fatal("GetOrCreate returned a second counter for one name")
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				c.Inc()
				c.Add(2)
			}
		})
	}
	wg.Wait()
	if got := c.Get(); got != 24000 {
		t.Fatalf("Get = %d, want 24000", got)
	}
	var b strings.Builder
	metrics.WritePrometheus(&b, false)
	if n := strings.Count(b.String(), name+" "); n != 1 {
		t.Fatalf("%s exported %d times:\n%s", name, n, b.String())
	}
	if !strings.Contains(b.String(), name+" 24000\n") {
		t.Fatalf("scrape lacks %s 24000:\n%s", name, b.String())
	}
}
