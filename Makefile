# roster — build, run and test. `make run` and `make test` are the whole set-up.

GO        ?= go
BIN       := bin
PKGS      := ./...
# MODULES: the repository's Go modules, each with its own go.mod: the server (.), the SDK (client, and
# proto, the wire format it shares with the server), the SDK's adapters and an SDK user's example. Every
# target that tests, vets, fuzzes or benchmarks $(PKGS) does so in each (narrow both: MODULES=. PKGS=./netio).
MODULES   ?= . proto client client/grpcresolver client/kratosregistry examples/consumer
FUZZTIME  ?= 1000x
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/roster-registry/roster/internal/buildinfo.Version=$(VERSION)

.PHONY: all build run test test-unit fuzz bench fmt lint clean mod-download

# in-modules runs its command in every module's directory, all of them even after a failure, and
# fails at the end if one did.
in-modules = rc=0; for m in $(MODULES); do (cd $$m && $(1)) || { echo "FAIL in module $$m"; rc=1; }; done; exit $$rc

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

## run: build and start `roster integrated` (meta + data + session, SQLite under ./var/).
run: build
	./$(BIN)/roster integrated

## test: lint, every package's tests with the race detector, then a short fuzz of every decoder.
test: lint test-unit fuzz

test-unit:
	@$(call in-modules,$(GO) test -race -count=1 -timeout 12m $(PKGS))

## mod-download: fetch the dependencies of every module (CI runs it before the tests).
mod-download:
	@$(call in-modules,$(GO) mod download)

## fuzz: run every fuzz target for FUZZTIME (seed corpora also run in test-unit). The budget is a
## count of executions, not a duration: a duration races the fuzz coordinator's deadline in Go 1.26
## and fails with a bare "context deadline exceeded" (golang/go#75804). FUZZTIME=5m still works by hand.
fuzz:
	@set -e; for m in $(MODULES); do for pkg in $$(cd $$m && $(GO) list $(PKGS)); do \
		for f in $$(cd $$m && $(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$f"; \
			out=$$(cd $$m && $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg 2>&1) || \
				{ echo "$$out" | tail -40; echo "FAIL: fuzz $$f in $$pkg (a failing input goes to testdata/fuzz)"; exit 1; }; \
		done; \
	done; done

## bench: Go micro-benchmarks of all packages, also saved (benchstat format) as bench/results/<date>-micro.txt.
bench:
	@mkdir -p bench/results
	@out=bench/results/$$(date +%F)-micro.txt; \
		{ ( $(call in-modules,$(GO) test -run='^$$' -bench=. -benchmem -benchtime=1s -count=$(BENCHCOUNT) $(PKGS)) ); echo $$? > $$out.rc; } | tee $$out; \
		rc=$$(cat $$out.rc); rm -f $$out.rc; echo "saved to $$out (compare runs with: benchstat old.txt new.txt)"; exit $$rc

fmt:
	gofmt -w $$(git ls-files '*.go')

lint:
	@$(call in-modules,$(GO) vet $(PKGS))
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

clean:
	rm -rf $(BIN) var

.PHONY: bench-compare bench-storm hostile bench-ci

## bench-ci: what every CI run prints after the tests, never a pass/fail on a figure: each micro-benchmark
## once, then bench-compare's small scenario (roster and etcd side by side; etcd from Debian's etcd-server,
## skipped with a message when it cannot be installed), its table printed. Reports go to $(BENCH_CI_DIR).
BENCH_CI_DIR ?= $(or $(TMPDIR),/tmp)/roster-bench-ci
bench-ci: build
	@mkdir -p $(BENCH_CI_DIR)
	-( $(call in-modules,$(GO) test -run='^$$' -bench=. -benchtime=1x -benchmem $(PKGS)) ) 2>&1 | grep -E '^(Benchmark|ok|FAIL|---)' || true
	-$(GO) run ./bench/compare --bin $(BIN) --results $(BENCH_CI_DIR) --scenarios small --targets roster,etcd --budget 8m --date ci \
		&& sed -n '/^## small/,/^## /p' $(BENCH_CI_DIR)/ci.md

## hostile: cheap hostile inputs against one `roster integrated` node (compression bombs, frames dribbled,
## idle and slow connections on every port, floods of app revisions and client-off IPs, descriptor
## exhaustion), one class at a time, while a legitimate client publishes and subscribes; writes
## bench/results/hostile-<date>.md (peak heap and fds, health, legitimate push p99, retained heap).
hostile: build
	$(GO) run ./bench/hostile --bin $(BIN)/roster $(HOSTILE_FLAGS)

## bench-storm: the push-at-scale benchmark (1M publishers, 1M subscribers over 2,000 connections on one
## integrated node: steady churn, a storm of 1,000 services, the storm without compression and without
## delta pushes); writes bench/results/storm-<date>.md. STORM_VARIANTS, STORM_SERVICES: see bench/storm.sh.
bench-storm: build
	bash bench/storm.sh

## bench-scale: a process cluster on this machine (1 meta on SQLite, 3 data nodes with 2 replicas, 2 sessions) loaded by
## the protocol-level load generator with SCALE_PUBS publishers and SCALE_SUBS subscribers (1M each by default; 10M is the
## issue-18 target and needs most of a 24 GiB machine), then churn with a storm of 1,000 services × 100 publishers;
## writes bench/results/scale-<date>-<pubs>-<subs>.md (RSS, live heap, bytes per record, CPU per role; registration
## rate; push latency; lost and stale). SCALE_FLAGS: more flags of bench/scale (go run ./bench/scale --help).
.PHONY: bench-scale
SCALE_PUBS ?= 1000000
SCALE_SUBS ?= 1000000
bench-scale: build
	SCALE_PUBS=$(SCALE_PUBS) SCALE_SUBS=$(SCALE_SUBS) $(GO) run ./bench/scale --bin $(BIN)/roster --results bench/results $(SCALE_FLAGS)

## bench-dc: cross-data-center push latency (issue 22): two data centers of processes on this machine (each 1 meta on
## SQLite, 1 data, 1 session, linked both ways), publishers in both, global subscribers in dc2, churn in both; p50, p99
## and max of a change published in dc1 next to one published in dc2, as dc2's subscribers see them; writes
## bench/results/dc-<date>.md. BENCH_DC_FLAGS: more flags of bench/dc (go run ./bench/dc --help).
.PHONY: bench-dc
bench-dc: build
	$(GO) run ./bench/dc --bin $(BIN)/roster --results bench/results $(BENCH_DC_FLAGS)

# BENCHCOUNT: runs of each micro-benchmark in `make bench` (benchstat wants 5 or more to quote medians).
BENCHCOUNT ?= 1

## bench-compare: the macro scenarios (10k, 200k, 1M publishers and subscribers) against a fresh roster
## integrated node and a fresh etcd (installed from Debian's etcd-server when missing), side by side:
## writes bench/results/<date>.md with plots. BENCH_COMPARE_FLAGS e.g. --scenarios small,medium.
bench-compare: build
	$(GO) run ./bench/compare --bin $(BIN) --results bench/results $(BENCH_COMPARE_FLAGS)

## cluster-up: 3 meta + 3 data + 2 session processes on loopback with MariaDB (database roster_cluster);
## nodes in var/cluster/nodes.json, logs in var/cluster/*.log; they keep running until cluster-down.
## DCS=2: two such clusters, data centers dc1 and dc2 (dc2: database roster_cluster_dc2, ports 100 above), linked.
.PHONY: cluster-up cluster-down
DCS ?= 1
cluster-up: build
	./$(BIN)/roster-cluster up --bin ./$(BIN)/roster --dir var/cluster --dcs $(DCS)

## cluster-down: stop every process cluster-up started (from var/cluster/nodes.json).
cluster-down:
	@if [ -x ./$(BIN)/roster-cluster ]; then ./$(BIN)/roster-cluster down --dir var/cluster; \
		else $(GO) run ./cmd/roster-cluster down --dir var/cluster; fi

## chaos: the fault scenario runner: 3 meta (private MariaDB), 3 data and 3 session processes under churn; kills,
## SIGSTOP, a network partition (root only), a MariaDB outage, slow subscribers, a rolling restart, a data node killed
## just after it was made leader (a fourth data node), every node killed at once, and the faults of a second data
## center dc2 linked both ways (in a network namespace, root only for the two partitions: the inter-DC link cut both
## ways and dc2->dc1 only, dc2's busiest data node killed, all of dc2 restarted), CHAOS_REPEATS times each; writes
## bench/results/chaos-<date>.md. CHAOS_FLAGS e.g. --faults kill-data,pause-data (see --help).
.PHONY: chaos
CHAOS_REPEATS ?= 3
chaos: build
	./$(BIN)/roster-chaos --bin ./$(BIN)/roster --repeats $(CHAOS_REPEATS) $(CHAOS_FLAGS)
