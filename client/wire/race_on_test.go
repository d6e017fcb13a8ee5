//go:build race

package wire

// raceEnabled: the race detector changes what allocation counters read.
const raceEnabled = true
