package main

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"

	"github.com/roster-registry/roster/loadgen"
)

// plotFile is a written plot: its title and its file name beside the report.
type plotFile struct{ title, file string }

var (
	targetColors = map[string]color.Color{
		loadgen.TargetRoster: color.RGBA{R: 31, G: 119, B: 180, A: 255},
		loadgen.TargetEtcd:   color.RGBA{R: 255, G: 127, B: 14, A: 255},
	}
	scenarioDashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}}
	targets        = []string{loadgen.TargetRoster, loadgen.TargetEtcd}
)

const (
	plotWidth  = 16 * vg.Centimeter
	plotHeight = 10 * vg.Centimeter
)

// writePlots draws push latency percentiles, registration rate and server
// memory per scenario and system as PNG files in dir.
func writePlots(dir, date string, sc []scenario, runs []run1) ([]plotFile, error) {
	type maker struct {
		title, suffix string
		draw          func(title string, sc []scenario, runs []run1) (*plot.Plot, error)
	}
	makers := []maker{
		{"Push latency percentiles, all changes (ms, log scale)", "latency", latencyPlot},
		{"Registrations per second (publishers + subscribers)", "register", func(t string, sc []scenario, runs []run1) (*plot.Plot, error) {
			return barPlot(t, "registrations/s", sc, runs, func(r *loadgen.Result) (float64, bool) { return r.RegisterRate, r.RegisterRate > 0 })
		}},
		{"Server RSS at the end of the run (MiB)", "memory", func(t string, sc []scenario, runs []run1) (*plot.Plot, error) {
			return barPlot(t, "MiB", sc, runs, func(r *loadgen.Result) (float64, bool) {
				return float64(r.ServerRSSBytes) / (1 << 20), r.ServerRSSBytes > 0
			})
		}},
		{"Server memory per publisher (bytes)", "memory-per-publisher", func(t string, sc []scenario, runs []run1) (*plot.Plot, error) {
			return barPlot(t, "bytes", sc, runs, perPublisher)
		}},
	}
	var out []plotFile
	for _, m := range makers {
		p, err := m.draw(m.title, sc, runs)
		if err != nil {
			return nil, fmt.Errorf("cannot draw %s plot: %w", m.suffix, err)
		}
		file := date + "-" + m.suffix + ".png"
		if err := p.Save(plotWidth, plotHeight, filepath.Join(dir, file)); err != nil {
			return nil, fmt.Errorf("cannot save %s: %w", file, err)
		}
		out = append(out, plotFile{title: m.title, file: file})
	}
	return out, nil
}

// latencyPlot draws one line per system and scenario over p50..max.
func latencyPlot(title string, sc []scenario, runs []run1) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = "ms"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = true, true
	p.NominalX("p50", "p90", "p99", "p99.9", "max")
	for i, s := range sc {
		for _, t := range targets {
			r := resultOf(runs, s.name, t)
			if r == nil || r.PushLatency.Count == 0 {
				continue
			}
			l := r.PushLatency
			pts := plotter.XYs{}
			for x, v := range []float64{l.P50, l.P90, l.P99, l.P999, l.Max} {
				// A log scale cannot show 0; the histogram's floor is 1 µs.
				pts = append(pts, plotter.XY{X: float64(x), Y: max(v, 0.001)})
			}
			line, points, err := plotter.NewLinePoints(pts)
			if err != nil {
				return nil, err
			}
			line.Color, points.Color = targetColors[t], targetColors[t]
			line.Dashes = scenarioDashes[i%len(scenarioDashes)]
			line.Width = vg.Points(1.5)
			p.Add(line, points)
			p.Legend.Add(t+" "+s.name, line, points)
		}
	}
	return p, nil
}

// barPlot draws one group of bars per scenario, one bar per system, with
// the figure written above each bar.
func barPlot(title, unit string, sc []scenario, runs []run1, get func(*loadgen.Result) (float64, bool)) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = unit
	p.Y.Min = 0
	p.Legend.Top = true
	w := vg.Points(22)
	top := 0.0
	names := make([]string, len(sc))
	for i, s := range sc {
		names[i] = s.name
	}
	for j, t := range targets {
		vals := make(plotter.Values, len(sc))
		labels := plotter.XYLabels{XYs: make(plotter.XYs, len(sc)), Labels: make([]string, len(sc))}
		for i, s := range sc {
			labels.XYs[i].X = float64(i)
			if r := resultOf(runs, s.name, t); r != nil {
				if v, ok := get(r); ok && v > 0 {
					vals[i] = v
					labels.XYs[i].Y = v
					top = max(top, v)
					labels.Labels[i] = num(v, 0)
				}
			}
		}
		bars, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		bars.Color = targetColors[t]
		bars.LineStyle.Width = 0
		off := w * vg.Length(2*j-1) / 2
		bars.Offset = off
		lab, err := plotter.NewLabels(labels)
		if err != nil {
			return nil, err
		}
		for k := range lab.TextStyle {
			lab.TextStyle[k].XAlign = text.XCenter
			lab.TextStyle[k].Font.Size = vg.Points(8)
		}
		lab.Offset = vg.Point{X: off, Y: vg.Points(2)}
		p.Add(bars, lab)
		p.Legend.Add(t, bars)
	}
	p.NominalX(names...)
	// Room at the sides for the outer bars and above them for the legend.
	p.X.Min, p.X.Max = -0.6, float64(len(sc))-0.4
	p.Y.Max = niceCeil(max(top*1.3, 1))
	p.Y.Tick.Marker = commaTicks{}
	p.Add(plotter.NewGrid())
	return p, nil
}

// niceCeil rounds v up to a round multiple of a power of ten, so the axis
// ends near the bars on a labelled tick.
func niceCeil(v float64) float64 {
	pow := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.5, 2, 3, 4, 5, 6, 8, 10} {
		if m*pow >= v {
			return m * pow
		}
	}
	return 10 * pow
}

// commaTicks labels the default ticks with thousands separators instead
// of two decimals.
type commaTicks struct{}

func (commaTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			digits := 0
			if hi < 10 {
				digits = 1
			}
			ticks[i].Label = num(ticks[i].Value, digits)
		}
	}
	return ticks
}
