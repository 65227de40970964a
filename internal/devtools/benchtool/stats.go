package main

import (
	"slices"
	"time"
)

// stat summarises repeated measurements.
type stat struct {
	n             int
	med, min, max float64
}

// summarize returns the median (the mean of the middle two for an even
// count), minimum and maximum of xs.
func summarize(xs []float64) stat {
	if len(xs) == 0 {
		return stat{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return stat{n: n, med: med, min: s[0], max: s[n-1]}
}

// of summarises one quantity of every sample.
func (s series) of(f func(sample) float64) stat {
	xs := make([]float64, len(s.samples))
	for i, x := range s.samples {
		xs[i] = f(x)
	}
	return summarize(xs)
}

// Quantities of a sample, in the report's units.
func wallMS(s sample) float64  { return ms(s.wall) }
func linkMS(s sample) float64  { return ms(s.link) }
func wallSec(s sample) float64 { return s.wall.Seconds() }
func rssMB(s sample) float64   { return float64(s.rss) / 1e6 }
func cpuMS(s sample) float64   { return ms(s.cpu) }
func srvMS(s sample) float64   { return ms(s.srvCPU) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// perSecond turns a sample into a rate of units per second of wall time.
func perSecond(units float64) func(sample) float64 {
	return func(s sample) float64 { return units / s.wall.Seconds() }
}

// find returns the series with the name and concurrency, or nil.
func find(ss []series, name string, conc int) *series {
	for i := range ss {
		if ss[i].name == name && (conc == 0 || ss[i].conc == conc) {
			return &ss[i]
		}
	}
	return nil
}

// mean is the average of one quantity over every sample; the server's CPU
// time comes in 10 ms ticks, which only an average smooths out.
func (s series) mean(f func(sample) float64) float64 {
	if len(s.samples) == 0 {
		return 0
	}
	sum := 0.0
	for _, x := range s.samples {
		sum += f(x)
	}
	return sum / float64(len(s.samples))
}

// percentile is the p-th percentile (0 to 100) of xs, interpolated
// linearly between the closest ranks; 0 for no data.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := p / 100 * float64(len(s)-1)
	lo := int(pos)
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (pos-float64(lo))*(s[lo+1]-s[lo])
}
