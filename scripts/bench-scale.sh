#!/usr/bin/env bash
# Scaling benchmark: stores of 10k, 100k and 1M stories published over the last year (built
# with examples/gen_store.rs through the library's own write path), each served by the release
# `feedsift serve`. For each store: size on disk, time for a first `serve` to build the topic
# indexes (until /healthz says every topic is indexed), then, in a second `serve`: cold start
# (process start to the first feed response), time to render the 30-day "distributed-systems"
# topic on a cache miss (3 warm-up renders, the first reported as "first", then the median of
# RENDERS; each request spells the topic's own limit differently, `?limit=030`, `?limit=0030`,
# ..., so the render cache misses (it keys on the canonical narrowing: an unknown parameter
# such as `?bench=1` is a hit);
# includes the gzip and brotli compression of every render), and the daemon's RSS.
#
# Figures are compared as ratios against the smallest store, measured in the same run (this
# machine is shared and noisy). The config also has a 365-day topic so retention keeps the
# whole year (with only the 30-day topic, serve would prune ~90% of the store at startup).
#
# Usage: scripts/bench-scale.sh                       (10k 100k 1M; ~6 min + ~2 min of index builds, 3 GB of disk)
#        SIZES="10000 100000" scripts/bench-scale.sh  (quick run)
# Env:   SIZES, RENDERS (9), REBUILD (1: build the indexes again even on a kept store), STORE_CACHE=DIR keeps generated stores there for the next run,
#        BIN (default target/release/feedsift), KEEP=1 keeps the temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"10000 100000 1000000"}
RENDERS=${RENDERS:-9}
TARGET=${CARGO_TARGET_DIR:-target}
BIN=${BIN:-$TARGET/release/feedsift}
GEN=$TARGET/release/examples/gen_store

cargo build --release --quiet --bin feedsift --example gen_store

WORK=$(mktemp -d)
PIDS=()
stop() { # pid: SIGTERM, then SIGKILL after 15 s
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  for pid in "${PIDS[@]}"; do stop "$pid"; done
  [ "${KEEP:-0}" = 1 ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
now() { date +%s.%N; }
human() { awk -v n="$1" 'BEGIN { if (n >= 1000000) printf "%dM", n / 1000000; else if (n >= 1000) printf "%dk", n / 1000; else print n }'; }

# A term no story has changes the topics' fingerprints, so every run builds the indexes again
# (and drops the previous run's) rather than reusing those a kept store already has.
NONCE=${REBUILD:-1}
[ "$NONCE" = 1 ] && NONCE="zzrun$(date +%s%N)" || NONCE="zzkeep"
{
  sed "s/\"crypto airdrop\"\]/\"crypto airdrop\", \"$NONCE\"]/" scripts/bench/scale-topics.toml
  # The year topic is the file's last: its own exclusion of the nonce goes at the end.
  printf '[topic.exclude]\nterms = ["%s"]\n' "$NONCE"
} > "$WORK/topics.toml"

declare -A SIZE COLD RENDER RSS HWM BUILD FIRST BUILD_HWM
for n in $SIZES; do
  if [ -n "${STORE_CACHE:-}" ]; then store="$STORE_CACHE/store-$n"; else store="$WORK/store-$n"; fi
  if [ ! -f "$store.ok" ]; then
    rm -rf "$store"
    mkdir -p "$(dirname "$store")"
    echo "generating $(human "$n") stories over 365 days ..." >&2
    "$GEN" "$store" "$n" 365 60 >&2
    touch "$store.ok"
  fi
  SIZE[$n]=$(du -sb "$store" | cut -f1)
  port=$(free_port)
  { printf '[server]\nlisten = "127.0.0.1:%s"\ndata_dir = "%s"\n\n' "$port" "$store"; cat "$WORK/topics.toml"; } > "$WORK/feeds-$n.toml"
  feed="http://127.0.0.1:$port/t/distributed-systems.rss"
  health="http://127.0.0.1:$port/healthz"
  # First start: the topic indexes are built in the background (once per store and topic
  # rules); feeds are served from whole-window reads meanwhile.
  t0=$(now)
  "$BIN" --config "$WORK/feeds-$n.toml" serve 2> "$WORK/build-$n.log" &
  pid=$!
  PIDS+=("$pid")
  until curl -sf "$health" 2>/dev/null | python3 -c 'import json,sys; sys.exit(0 if all(t["indexed"] for t in json.load(sys.stdin)["topics"]) else 1)' 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/build-$n.log" >&2; exit 1; }
    sleep 0.05
  done
  BUILD[$n]=$(echo "$(now) - $t0" | bc -l)
  BUILD_HWM[$n]=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
  stop "$pid"
  sync
  t0=$(now)
  "$BIN" --config "$WORK/feeds-$n.toml" serve 2> "$WORK/serve-$n.log" &
  pid=$!
  PIDS+=("$pid")
  until curl -sf -o /dev/null "$feed"; do
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/serve-$n.log" >&2; exit 1; }
    sleep 0.01
  done
  t1=$(now)
  COLD[$n]=$(echo "$t1 - $t0" | bc -l)
  # The first renders after a start read sled pages from disk: reported apart, as "first".
  z=30 # the topic's limit, with one more leading zero per request: a new cache key each time
  FIRST[$n]=$(z="0$z"; curl -sf -o /dev/null -w '%{time_total}' "$feed?limit=$z")
  z="0$z"
  for i in 2 3; do z="0$z"; curl -sf -o /dev/null "$feed?limit=$z"; done
  for i in $(seq "$RENDERS"); do
    z="0$z"
    curl -sf -o /dev/null -w '%{time_total}\n' "$feed?limit=$z"
  done | sort -n > "$WORK/renders-$n.txt"
  RENDER[$n]=$(awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }' "$WORK/renders-$n.txt")
  RSS[$n]=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
  HWM[$n]=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
  stop "$pid"
  echo "$(human "$n"): index build ${BUILD[$n]} s, cold start ${COLD[$n]} s, render ${RENDER[$n]} s, RSS ${RSS[$n]} kB" >&2
done

base=${SIZES%% *}
echo
echo "== scale: stories over 365 days, 30-day topic, render on a cache miss (median of $RENDERS after 3 warm-up renders; the first of those as \"first\") ($(date -u +%FT%TZ))"
printf '%-8s %10s %12s %12s %12s %12s %14s %12s %10s %10s\n' stories "store MB" "index build" "build peak" "cold start" "first" "render 30d" "vs $(human "$base")" "RSS MB" "peak MB"
for n in $SIZES; do
  printf '%-8s %10.0f %10.1f s %9.0f MB %10.3f s %9.1f ms %11.1f ms %11.1fx %10.0f %10.0f\n' "$(human "$n")" \
    "$(echo "${SIZE[$n]} / 1048576" | bc -l)" "${BUILD[$n]}" "$(echo "${BUILD_HWM[$n]} / 1024" | bc -l)" "${COLD[$n]}" "$(echo "${FIRST[$n]} * 1000" | bc -l)" "$(echo "${RENDER[$n]} * 1000" | bc -l)" \
    "$(echo "${RENDER[$n]} / ${RENDER[$base]}" | bc -l)" "$(echo "${RSS[$n]} / 1024" | bc -l)" \
    "$(echo "${HWM[$n]} / 1024" | bc -l)"
done
verdict() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo met; else echo MISSED; fi; }
for n in $SIZES; do
  if [ "$n" = 1000000 ]; then
    printf 'target    render 1M <= 1.5x render %s: %.1fx %s\n' "$(human "$base")" \
      "$(echo "${RENDER[$n]} / ${RENDER[$base]}" | bc -l)" "$(verdict "${RENDER[$n]} / ${RENDER[$base]} <= 1.5")"
    printf 'target    daemon RSS with 1M < 150 MB: %.0f MB (peak %.0f MB) %s\n' \
      "$(echo "${RSS[$n]} / 1024" | bc -l)" "$(echo "${HWM[$n]} / 1024" | bc -l)" "$(verdict "${HWM[$n]} < 153600")"
  fi
  if [ "$n" = 100000 ]; then
    printf 'target    cold start on 100k <= 1 s: %.3f s %s\n' "${COLD[$n]}" "$(verdict "${COLD[$n]} <= 1")"
  fi
done
