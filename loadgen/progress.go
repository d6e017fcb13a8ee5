package loadgen

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// meter describes what a progress line shows.
type meter struct {
	label string
	total int64
	done  func() int64
	// detail, when set, replaces the rate after the counts (for a timed
	// phase, where done counts seconds).
	detail func(elapsed time.Duration) string
}

// progress prints a meter on w until finish: rewritten in place every
// quarter second on a terminal, a new line every few seconds otherwise (a
// log file should not fill with carriage returns).
type progress struct {
	w     io.Writer
	tty   bool
	m     meter
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startProgress(w io.Writer, m meter) *progress {
	p := &progress{w: w, m: m, start: time.Now(), stop: make(chan struct{})}
	if w == nil {
		return p
	}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	every := 5 * time.Second
	if p.tty {
		every = 250 * time.Millisecond
	}
	p.wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.print(false)
			}
		}
	})
	return p
}

// finish prints the final line and stops the printer.
func (p *progress) finish() {
	if p.w == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
	p.print(true)
}

func (p *progress) print(final bool) {
	line := render(p.m, p.m.done(), time.Since(p.start))
	switch {
	case p.tty && final:
		fmt.Fprintf(p.w, "\r\033[K%s\n", line)
	case p.tty:
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	default:
		fmt.Fprintln(p.w, line)
	}
}

const barWidth = 24

// render formats one progress line:
//
//	register pubs [=========>              ]  41%  41000/100000  20.5k/s  ETA 3s
func render(m meter, done int64, elapsed time.Duration) string {
	frac := 1.0
	if m.total > 0 {
		frac = min(max(float64(done)/float64(m.total), 0), 1)
	}
	filled := int(frac * barWidth)
	bar := strings.Repeat("=", filled)
	if filled < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-filled-1)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s [%s] %3.0f%%  %d/%d", m.label, bar, frac*100, done, m.total)
	secs := elapsed.Seconds()
	if m.detail != nil {
		b.WriteString("  " + m.detail(elapsed))
	} else if secs > 0 {
		b.WriteString("  " + si(float64(done)/secs) + "/s")
	}
	if done > 0 && done < m.total && secs > 0 {
		eta := time.Duration(float64(m.total-done) / float64(done) * float64(elapsed))
		b.WriteString("  ETA " + eta.Round(time.Second).String())
	}
	return b.String()
}

// si formats a rate with a k or M suffix.
func si(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
