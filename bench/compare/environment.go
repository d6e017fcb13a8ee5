package main

import (
	"time"

	"github.com/roster-registry/roster/internal/benchenv"
)

// environment describes where and with what the report was made.
type environment struct {
	benchenv.Machine
	Roster  string        `json:"roster"`
	Etcd    string        `json:"etcd,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns"`
	// Load averages (1 minute) before and after: other work on the
	// machine slows both systems but adds noise.
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end"`
}

func (e *environment) collect() { e.Machine = benchenv.Collect() }
