//go:build !race

package session

// raceEnabled: the race detector changes what allocation counters read.
const raceEnabled = false
