package counter

import (
	"fmt"
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
	base := c.Get() // the counter is the process's: -count=N runs add up
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
	if got := c.Get() - base; got != 24000 {
		t.Fatalf("Get grew by %d, want 24000", got)
	}
	var b strings.Builder
	metrics.WritePrometheus(&b, false)
	if n := strings.Count(b.String(), name+" "); n != 1 {
		t.Fatalf("%s exported %d times:\n%s", name, n, b.String())
	}
	if want := fmt.Sprintf("%s %d\n", name, base+24000); !strings.Contains(b.String(), want) {
		t.Fatalf("scrape lacks %q:\n%s", want, b.String())
	}
}
