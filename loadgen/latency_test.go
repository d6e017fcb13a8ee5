package loadgen

import (
	"testing"
	"time"
)

func TestObserveRecordsNewestChangeOnce(t *testing.T) {
	r := newRecorder()
	st := &subState{}
	base := time.Unix(100, 0)
	ns := func(d time.Duration) int64 { return base.Add(d).UnixNano() }

	// Initial publications move the mark but are not pushes of a change.
	r.observe(st, []string{pubData(0, ns(0), kindRegister, 0), pubData(1, ns(time.Millisecond), kindRegister, 0)}, base.Add(time.Second))
	if got := r.churn.TotalCount(); got != 0 {
		t.Fatalf("registration recorded as a change: %d", got)
	}
	// A churn change 5 ms old: one value of 5 ms.
	list := []string{pubData(0, ns(10*time.Second), kindChurn, 0), pubData(1, ns(time.Millisecond), kindRegister, 0)}
	r.observe(st, list, base.Add(10*time.Second+5*time.Millisecond))
	// The same list again (a resend) records nothing new.
	r.observe(st, list, base.Add(11*time.Second))
	// A storm change 20 ms old goes to the storm histogram.
	r.observe(st, []string{pubData(0, ns(10*time.Second), kindChurn, 0), pubData(1, ns(20*time.Second), kindStorm, 0)}, base.Add(20*time.Second+20*time.Millisecond))

	if got := r.pushes.Load(); got != 4 {
		t.Fatalf("pushes = %d, want 4", got)
	}
	if got := r.churn.TotalCount(); got != 1 {
		t.Fatalf("churn count = %d, want 1", got)
	}
	if got := r.churn.Max(); !r.churn.ValuesAreEquivalent(got, 5000) {
		t.Fatalf("churn latency = %d µs, want 5000", got)
	}
	if got := r.storm.TotalCount(); got != 1 {
		t.Fatalf("storm count = %d, want 1", got)
	}
}

func TestObserveClampsClockSkew(t *testing.T) {
	r := newRecorder()
	now := time.Unix(100, 0)
	// Sent "after" it was received (another clock): recorded as the minimum, not dropped.
	r.observe(&subState{}, []string{pubData(0, now.Add(time.Second).UnixNano(), kindChurn, 0)}, now)
	if got := r.churn.TotalCount(); got != 1 {
		t.Fatalf("count = %d, want 1", got)
	}
}

func TestMergeAndSummarize(t *testing.T) {
	a, b := newRecorder(), newRecorder()
	for i := int64(1); i <= 100; i++ {
		_ = a.churn.RecordValue(i * 1000) // 1..100 ms
	}
	_ = b.storm.RecordValue(500_000) // 500 ms
	a.pushes.Add(100)
	b.pushes.Add(1)

	m := merge([]*recorder{a, b})
	if m.pushes != 101 {
		t.Fatalf("pushes = %d, want 101", m.pushes)
	}
	s := Summarize(m.all)
	if s.Count != 101 {
		t.Fatalf("count = %d, want 101", s.Count)
	}
	near := func(got, want float64) bool { return got >= want*0.99 && got <= want*1.01 }
	if !near(s.P50, 51) || !near(s.P90, 91) || !near(s.Max, 500) {
		t.Fatalf("summary = %+v", s)
	}
	if st := Summarize(m.storm); st.Count != 1 || !near(st.P50, 500) {
		t.Fatalf("storm summary = %+v", st)
	}
	if ch := Summarize(m.churn); ch.Count != 100 || !near(ch.Max, 100) {
		t.Fatalf("churn summary = %+v", ch)
	}
}
