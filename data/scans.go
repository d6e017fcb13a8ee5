package data

import "context"

// Slot scans (the digest and diff requests of followers and of remote data
// centers' importers) walk a slot, so they run off the event loops: on
// scanWorkers goroutines the server owns, at most maxQueuedScans waiting.
// Each request used to start a goroutine of its own that nothing waited
// for, so a burst of requests started as many as were sent and Stop could
// return with scans still running. A request that finds the queue full is
// answered as unavailable and retried by its sender.
const (
	scanWorkers    = 4
	maxQueuedScans = 1024
)

// scanQueue holds the scans waiting for a worker.
type scanQueue chan func()

func newScanQueue() scanQueue { return make(scanQueue, maxQueuedScans) }

// submit queues scan; false when the queue is full.
func (q scanQueue) submit(scan func()) bool {
	select {
	case q <- scan:
		return true
	default:
		return false
	}
}

// run is one worker: it runs queued scans until ctx is done. Scans still
// queued then are dropped: their connections close with the server.
func (q scanQueue) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case scan := <-q:
			scan()
		}
	}
}
