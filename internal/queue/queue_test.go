package queue

import (
	"reflect"
	"slices"
	"sync"
	"testing"
)

func TestSetMergesDuplicatesAndKeepsOrder(t *testing.T) {
	q := New[string]("test_order")
	for _, k := range []string{"a", "b", "a", "c", "b"} {
		q.Add(k)
	}
	if q.Len() != 3 {
		t.Fatalf("Len = %d, want 3", q.Len())
	}
	if k, _ := q.Pop(); k != "a" {
		t.Fatalf("Pop = %q, want a", k)
	}
	q.Add("a") // taken already: queued again, last
	if got := q.TakeAll(); !slices.Equal(got, []string{"b", "c", "a"}) {
		t.Fatalf("TakeAll = %v", got)
	}
	if _, ok := q.Pop(); ok || q.Len() != 0 {
		t.Fatal("queue not empty after TakeAll")
	}
}

func TestSetSignalsEveryConsumer(t *testing.T) {
	q := New[int]("test_signal")
	const n = 1000
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := make(map[int]int)
	done := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k, ok := q.Pop()
				if !ok {
					select {
					case <-q.Ready():
						continue
					case <-done:
						return
					}
				}
				mu.Lock()
				seen[k]++
				total := len(seen)
				mu.Unlock()
				if total == n {
					close(done)
				}
			}
		}()
	}
	for i := range n {
		q.Add(i)
	}
	wg.Wait()
	for i := range n {
		if seen[i] != 1 {
			t.Fatalf("key %d taken %d times", i, seen[i])
		}
	}
	if g := q.length.Get(); g != 0 {
		t.Fatalf("length gauge = %v after draining", g)
	}
}

// A queue that drained a burst does not keep the burst's map.
func TestSetDropsBurstMap(t *testing.T) {
	for _, take := range []bool{false, true} {
		q := New[int]("test_burst")
		for i := range 1000 {
			q.Add(i)
		}
		burst := reflect.ValueOf(q.in.m).UnsafePointer()
		if take {
			q.TakeAll()
		} else {
			for {
				if _, ok := q.Pop(); !ok {
					break
				}
			}
		}
		if reflect.ValueOf(q.in.m).UnsafePointer() == burst {
			t.Fatalf("take=%v: the drained queue keeps its burst's map", take)
		}
		if !q.Add(1) || q.Len() != 1 {
			t.Fatal("the queue does not take keys after draining")
		}
	}
}
