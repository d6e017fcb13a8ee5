package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/roster-registry/roster/loadgen"
)

// scenario is one load shape, run the same way against every target.
type scenario struct {
	name           string
	services       int
	pubsPerService int
	subsPerService int
	conns          int
	dataBytes      int
	churn          float64 // republishes per second during the run
	storm          int     // services republished at once mid-run
	duration       time.Duration
	// registerTimeout bounds registration per target: etcd gets as far as
	// it can within its bound and the report says how far that was.
	registerTimeout map[string]time.Duration
	convergeTimeout time.Duration
}

func (s scenario) pubs() int { return s.services * s.pubsPerService }
func (s scenario) subs() int { return s.services * s.subsPerService }

// scenarios are the report's sizes: 10k, 200k and 1M publishers, each with
// as many subscribers, ten of each per service, over 100 connections.
var scenarios = []scenario{
	{name: "small", services: 1_000, pubsPerService: 10, subsPerService: 10, conns: 100, dataBytes: 100,
		churn: 200, storm: 500, duration: 20 * time.Second,
		registerTimeout: map[string]time.Duration{"roster": 2 * time.Minute, "etcd": 2 * time.Minute},
		convergeTimeout: time.Minute},
	{name: "medium", services: 20_000, pubsPerService: 10, subsPerService: 10, conns: 100, dataBytes: 100,
		churn: 1000, storm: 2000, duration: 30 * time.Second,
		registerTimeout: map[string]time.Duration{"roster": 4 * time.Minute, "etcd": 6 * time.Minute},
		convergeTimeout: time.Minute},
	{name: "large", services: 100_000, pubsPerService: 10, subsPerService: 10, conns: 100, dataBytes: 100,
		churn: 1000, storm: 5000, duration: 30 * time.Second,
		registerTimeout: map[string]time.Duration{"roster": 6 * time.Minute, "etcd": 6 * time.Minute},
		convergeTimeout: 2 * time.Minute},
}

// targetRosterTLS is roster with TLS between its nodes (its roles): the
// same integrated node and SDK clients, the links between meta, data and
// session over mutual TLS, to measure what TLS costs.
const targetRosterTLS = "roster-tls"

// system is the registry a target runs: roster-tls is roster, with the
// same bounds and the same loadgen target.
func system(target string) string {
	if target == targetRosterTLS {
		return loadgen.TargetRoster
	}
	return target
}

// wallBound is the longest a run of s against target may take, server
// start and stop included.
func (s scenario) wallBound(target string) time.Duration {
	return s.registerTimeout[system(target)] + 2*s.convergeTimeout + s.duration + 2*time.Minute
}

// loadgenArgs are roster-loadgen's flags for s against one server.
func (s scenario) loadgenArgs(target string, endpoints []string, pid int, metrics, out string) []string {
	eps := ""
	for i, e := range endpoints {
		if i > 0 {
			eps += ","
		}
		eps += e
	}
	return []string{
		"--target", system(target), "--endpoints", eps, "--scenario", s.name,
		"--conns", strconv.Itoa(s.conns), "--services", strconv.Itoa(s.services),
		"--pubs-per-service", strconv.Itoa(s.pubsPerService), "--subs-per-service", strconv.Itoa(s.subsPerService),
		"--data-bytes", strconv.Itoa(s.dataBytes), "--churn", fmt.Sprint(s.churn), "--storm", strconv.Itoa(s.storm),
		"--duration", s.duration.String(), "--register-timeout", s.registerTimeout[system(target)].String(),
		"--converge-timeout", s.convergeTimeout.String(), "--server-pid", strconv.Itoa(pid), "--out", out,
		"--server-metrics", metrics,
	}
}

func pickScenarios(names []string) ([]scenario, error) {
	var out []scenario
	for _, n := range names {
		found := false
		for _, s := range scenarios {
			if s.name == n {
				out = append(out, s)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("cannot run scenario %q: %w", n, errUnknownName)
		}
	}
	return out, nil
}
