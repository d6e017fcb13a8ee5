#!/usr/bin/env bash
# bench/storm.sh — the push-at-scale macro benchmark (`make bench-storm`).
#
# One `roster integrated` node and `roster-loadgen` on this machine:
# STORM_SERVICES services × 100 publishers × 100 subscribers (1M and 1M by
# default) over 2,000 SDK connections, 100-byte data. Each variant starts a
# fresh node, registers everything, then:
#   steady          one change at a time (STORM_CHURN changes/s) for 30 s: churn p99
#   storm           one publisher of each of 1,000 services republished at once
#                   (100,000 pushes) in the middle of a 30 s run without churn
#   storm-no-zstd   the same storm with push compression off (--push-compress-above -1)
#   storm-no-delta  the same storm with delta pushes off (--push-no-delta)
#   steady-tls, storm-tls  steady and storm with the links between the node's
#                   roles over mutual TLS (a CA and a certificate made by
#                   `roster cert`), to measure what TLS between nodes costs
# and writes bench/results/storm-<date>.md (a table) and .json (loadgen's results).
#
# STORM_VARIANTS picks variants (space-separated; one may repeat, e.g.
# "steady steady steady" for a median), STORM_MEMORY_LIMIT is the
# node's --memory-limit (default 1800MiB), STORM_SERVICES scales the run down,
# STORM_SERVER_FLAGS adds flags to every variant's node (e.g. --memory-trim=off).
# STORM_INFLIGHT is the registrations in flight per connection (default 4):
# with loadgen's 16, 32,000 calls of 2,000 SDK clients in one process on 2
# cores starved its own write and heartbeat loops for seconds, the node
# closed idle links, the clients registered everything again, and in 6 of
# 11 runs of 2026-12-06 666-2,397 links were lost and registration fell to
# 0.7-4k/s (with 4: 4 runs of 4 lost no link).
set -euo pipefail

BIN=${BIN:-bin}
RESULTS=${RESULTS:-bench/results}
SERVICES=${STORM_SERVICES:-10000}
CONNS=${STORM_CONNS:-2000}
STORM=${STORM_STORM:-1000}
CHURN=${STORM_CHURN:-10}
INFLIGHT=${STORM_INFLIGHT:-4}
MEMLIMIT=${STORM_MEMORY_LIMIT:-1800MiB}
VARIANTS=${STORM_VARIANTS:-steady storm storm-no-zstd storm-no-delta}
DATE=$(date +%F)

work=$(mktemp -d /tmp/roster-storm.XXXXXX)
server=""
cleanup() {
	if [[ -n $server ]] && kill -0 "$server" 2>/dev/null; then
		kill "$server" 2>/dev/null || true
		wait "$server" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# free_base prints a port p with p..p+5 free on loopback, below the
# ephemeral range: the load generator's 2,000 connections use ports there,
# and one taken between this check and the bind failed a run.
free_base() {
	local low; low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	while :; do
		local p=$((10000 + RANDOM % (low - 10010))) busy=0
		for i in 0 1 2 3 4 5; do
			if ss -Hltn "sport = :$((p + i))" | grep -q .; then busy=1; fi
		done
		((busy)) || { echo "$p"; return; }
	done
}

# node_tls makes a CA and an integrated node's certificate (its meta, data
# and session addresses) in $work/tls and prints the flags that use them.
node_tls() {
	local p=$1 dir=$work/tls
	rm -rf "$dir"
	"$BIN/roster" cert ca --dir "$dir" >/dev/null
	"$BIN/roster" cert node --role meta,data,session --ca-dir "$dir" --out "$dir/node" \
		--addr "127.0.0.1:$((p + 2)),127.0.0.1:$((p + 4)),127.0.0.1:$p" >/dev/null
	echo --tls-ca "$dir/ca.crt" --tls-cert "$dir/node.crt" --tls-key "$dir/node.key"
}

run_variant() {
	local name=$1 out=$2 lgflags=() tls=0
	# shellcheck disable=SC2206 # the flags are words without spaces
	local flags=(${STORM_SERVER_FLAGS:-})
	case $name in
	*-tls) tls=1 ;;
	esac
	case ${name%-tls} in
	steady) lgflags=(-churn "$CHURN") ;;
	storm) lgflags=(-churn 0 -storm "$STORM") ;;
	storm-no-zstd) lgflags=(-churn 0 -storm "$STORM"); flags+=(--push-compress-above -1) ;;
	storm-no-delta) lgflags=(-churn 0 -storm "$STORM"); flags+=(--push-no-delta) ;;
	*) echo "unknown variant $name" >&2; exit 2 ;;
	esac
	local p; p=$(free_base)
	rm -rf "$work/data"
	if ((tls)); then
		# shellcheck disable=SC2207 # the flags are words without spaces
		flags+=($(node_tls "$p"))
	fi
	"$BIN/roster" integrated --memory-limit "$MEMLIMIT" --log-level warn \
		--session-addr "127.0.0.1:$p" --session-http-addr "127.0.0.1:$((p + 1))" \
		--meta-addr "127.0.0.1:$((p + 2))" --meta-http-addr "127.0.0.1:$((p + 3))" \
		--data-addr "127.0.0.1:$((p + 4))" --data-http-addr "127.0.0.1:$((p + 5))" \
		--data-dir "$work/data" "${flags[@]}" >"$work/$name-server.log" 2>&1 &
	server=$!
	for _ in $(seq 100); do
		curl -fsS "127.0.0.1:$((p + 1))/health/check" >/dev/null 2>&1 && break
		sleep 0.1
	done
	if ! kill -0 "$server" 2>/dev/null; then
		echo "roster integrated did not start: $(head -c 300 "$work/$name-server.log")" >&2
		echo '{"scenario":"'"$name"'","failure":"server did not start"}' >"$work/$out.json"
		server=""
		return
	fi
	echo "== $name: roster integrated ${flags[*]} (pid $server)" >&2
	"$BIN/roster-loadgen" -endpoints "127.0.0.1:$p" -server-pid "$server" -server-metrics "http://127.0.0.1:$((p + 3))/metrics" -scenario "$name" \
		-services "$SERVICES" -pubs-per-service 100 -subs-per-service 100 -conns "$CONNS" -inflight "$INFLIGHT" \
		-duration 30s -register-timeout 15m -converge-timeout 2m "${lgflags[@]}" \
		-out "$work/$out.out.json" || echo "roster-loadgen failed (exit $?)" >&2
	# The peak RSS, not only loadgen's samples: the kernel's high-water mark.
	local hwm; hwm=$(awk '/^VmHWM:/{print $2 * 1024}' "/proc/$server/status" 2>/dev/null || echo 0)
	kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true
	server=""
	[[ -s $work/$out.out.json ]] || echo '{"scenario":"'"$name"'","failure":"no result"}' >"$work/$out.out.json"
	jq --argjson hwm "${hwm:-0}" '. + {server_peak_rss_bytes: $hwm}' "$work/$out.out.json" >"$work/$out.json"
}

mkdir -p "$RESULTS"
# A variant may be named more than once (repeats): each run has its own files.
n=0
for v in $VARIANTS; do n=$((n + 1)); run_variant "$v" "$n-$v"; done

n=0
jq -s . $(for v in $VARIANTS; do n=$((n + 1)); echo "$work/$n-$v.json"; done) >"$RESULTS/storm-$DATE.json"
{
	echo "# push at scale — $DATE"
	echo
	echo "Made by \`make bench-storm\` (bench/storm.sh) on $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(go env GOVERSION), roster $(git describe --always --dirty 2>/dev/null || echo '?')."
	echo "One \`roster integrated --memory-limit $MEMLIMIT\` node and \`roster-loadgen\` (one process, $CONNS SDK clients) on the same machine;"
	echo "$SERVICES services × 100 publishers × 100 subscribers, 100-byte data. Latency is from the publisher's send to the subscriber's handler."
	echo "Storm CPU a push: the CPU of the run's quarter from the storm's start beyond the quarter before it, per storm push; on this shared"
	echo "machine the storm's p99 is about (server + loadgen storm CPU) / 2 and swings with the machine's speed, so compare builds by CPU a push."
	echo "A garbage collection in the storm's quarter (last column) counts in both: about a second of CPU for the load generator at 1M."
	echo
	jq -r '
	  def ms: if . == null then "–" else (. * 10 | round / 10 | tostring) end;
	  def mib: if . == null or . == 0 then "–" else (. / 1048576 | round | tostring) end;
	  def us($cpu): if (.storm_pushes // 0) > 0 and $cpu != null then ($cpu / .storm_pushes * 1e7 | round / 10 | tostring) else "–" end;
	  "| variant | pubs | subs | registered in (s) | changes | p50 (ms) | p99 (ms) | p99.9 (ms) | max (ms) | lost | stale | server peak RSS (MiB) | server RSS end (MiB) | server CPU (s) | loadgen CPU (s) | storm CPU a push, server / loadgen (µs) | collections in the storm, server / loadgen | failure |",
	  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
	  (.[] | (if .storm_services > 0 then .storm_push_latency_ms else .churn_push_latency_ms end) as $l |
	   "| \(.scenario) | \(.pubs_registered) | \(.subs_registered) | \(.register_seconds | ms) | \(.changes_sent) | \($l.p50 | ms) | \($l.p99 | ms) | \($l.p999 | ms) | \($l.max | ms) | \(.lost) | \(.stale) | \(.server_peak_rss_bytes | mib) | \(.server_rss_bytes | mib) | \(.server_cpu_seconds | ms) | \(.client_cpu_seconds | ms) | \(us(.storm_server_cpu_seconds)) / \(us(.storm_client_cpu_seconds)) | \(if .storm_services > 0 then "\(.storm_server_gcs // "–") / \(.storm_client_gcs // 0)" else "–" end) | \(.failure // "") |")
	' "$RESULTS/storm-$DATE.json"
} >"$RESULTS/storm-$DATE.md"
cat "$RESULTS/storm-$DATE.md"
