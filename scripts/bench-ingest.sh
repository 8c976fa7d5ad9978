#!/usr/bin/env bash
# Ingest benchmark: a synthetic corpus of FEEDS listings x ENTRIES entries (every source kind,
# sizes like real captures, ~1 entry in 5 repeating a URL seen elsewhere) served by a local
# python3 http.server, then the release `feedsift fetch --once` against it (on both cores, then
# pinned to one core with taskset: the target's figure). Prints entries/s end to end (process
# start to every story stored and flushed), CPU time and peak RSS. The stores already have
# their two topic indexes (a daemon served them), so ingest marks what it writes for them; the
# time a `serve` then takes to file those stories is printed too.
#
# Same-run baseline (this machine is shared and noisy): downloading every listing from the
# same server with one curl process, two at a time (feedsift's per-host limit), bytes
# discarded. The ratio feedsift/baseline is the figure to compare across runs.
#
# Usage: scripts/bench-ingest.sh            (FEEDS=200 ENTRIES=100 by default)
#        FEEDS=50 scripts/bench-ingest.sh   (quick run)
# Env:   FEEDS, ENTRIES, BIN (default target/release/feedsift), KEEP=1 keeps the temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."

FEEDS=${FEEDS:-200}
ENTRIES=${ENTRIES:-100}
TARGET=${CARGO_TARGET_DIR:-target}
BIN=${BIN:-$TARGET/release/feedsift}
GEN=$TARGET/release/examples/gen_corpus

cargo build --release --quiet --bin feedsift --example gen_corpus
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ "${KEEP:-0}" = 1 ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
now() { date +%s.%N; }

port=$(free_port)
base="http://127.0.0.1:$port"
mkdir -p "$WORK/corpus"
"$GEN" "$WORK/corpus" "$FEEDS" "$ENTRIES" "$base" > "$WORK/sources.toml"
# The server gets the last core; the one-core run of feedsift gets the first.
last_cpu=$(($(nproc) - 1))
taskset -c "$last_cpu" python3 -m http.server "$port" --bind 127.0.0.1 --directory "$WORK/corpus" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do curl -sf -o /dev/null "$base/" && break; sleep 0.1; done

serve_port=$(free_port)
{
  printf '[server]\ndata_dir = "data"\nlisten = "127.0.0.1:%s"\n\n' "$serve_port"
  cat scripts/bench/ingest-topics.toml
} > "$WORK/feeds.toml"
# The topics alone: a daemon that builds the indexes without polling anything.
sed 's/^data_dir = "data"$/data_dir = "data1"/' "$WORK/feeds.toml" > "$WORK/prime1.toml"
cp "$WORK/feeds.toml" "$WORK/prime.toml"
cat "$WORK/sources.toml" >> "$WORK/feeds.toml"
sed 's/^data_dir = "data"$/data_dir = "data1"/' "$WORK/feeds.toml" > "$WORK/feeds1.toml"

health="http://127.0.0.1:$serve_port/healthz"
# Runs `serve` on a config's store until /healthz satisfies a python condition on its JSON.
serve_until() { # config condition
  "$BIN" --config "$1" serve 2>> "$WORK/serve.log" &
  local pid=$!
  until curl -sf "$health" 2>/dev/null | python3 -c "import json,sys; h=json.load(sys.stdin); sys.exit(0 if $2 else 1)" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
    sleep 0.02
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
indexed='all(t["indexed"] for t in h["topics"])'
# Both stores start with their (empty) topic indexes built, as a store a daemon has served:
# ingest then marks each story it writes for the indexes.
serve_until "$WORK/prime.toml" "$indexed"
serve_until "$WORK/prime1.toml" "$indexed"

corpus_bytes=$(du -sb "$WORK/corpus" | cut -f1)
entries=$((FEEDS * ENTRIES))

# Baseline: the bytes alone, over the same server and loopback.
grep -o "$base/[^\"]*" "$WORK/sources.toml" | sed 's/.*/url = "&"\noutput = "\/dev\/null"/' > "$WORK/curl.cfg"
t0=$(now)
curl -sf --no-progress-meter --parallel --parallel-max 2 --config "$WORK/curl.cfg" 2>/dev/null
t1=$(now)
base_s=$(echo "$t1 - $t0" | bc -l)

# feedsift, cold store: every entry parsed, normalized, merged and stored.
t0=$(now)
/usr/bin/time -v "$BIN" --config "$WORK/feeds.toml" fetch --once > "$WORK/fetch.out" 2> "$WORK/time.txt"
t1=$(now)
fetch_s=$(echo "$t1 - $t0" | bc -l)
rss_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$WORK/time.txt")
cpu_s=$(awk -F: '/User time|System time/ {s += $2} END {print s}' "$WORK/time.txt")

# The target's figure: the same on one core (taskset), into a fresh store.
t0=$(now)
taskset -c 0 "$BIN" --config "$WORK/feeds1.toml" fetch --once > "$WORK/fetch1.out"
t1=$(now)
one_s=$(echo "$t1 - $t0" | bc -l)

# What ingest leaves for the daemon: filing the new stories in the topic indexes (a `serve`
# on the one-core store, without sources, from start until its backlog is empty).
t0=$(now)
serve_until "$WORK/prime1.toml" "$indexed and h['index_backlog'] == 0"
t1=$(now)
file_s=$(echo "$t1 - $t0" | bc -l)

# The same again: every source answers 304 (python's server honours If-Modified-Since).
t0=$(now)
/usr/bin/time -v "$BIN" --config "$WORK/feeds.toml" fetch --once > "$WORK/refetch.out" 2> "$WORK/time2.txt"
t1=$(now)
refetch_s=$(echo "$t1 - $t0" | bc -l)
rss2_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$WORK/time2.txt")

read -r new updated unchanged skipped failed < <(awk '
  / ok / { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^new,/) n += $i; if ($(i+1) ~ /^updated,/) u += $i;
           if ($(i+1) ~ /^unchanged,/) c += $i; if ($(i+1) ~ /^skipped/) s += $i } }
  / FAILED / { f++ }
  END { print n+0, u+0, c+0, s+0, f+0 }' "$WORK/fetch.out")
not_modified=$(grep -c "not modified" "$WORK/refetch.out" || true)
stored=$new
data_kb=$(du -sk "$WORK/data" | cut -f1)

printf '\n== ingest: %d listings x %d entries = %d entries, %.1f MB (%s)\n' \
  "$FEEDS" "$ENTRIES" "$entries" "$(echo "$corpus_bytes / 1000000" | bc -l)" "$(date -u +%FT%TZ)"
printf 'baseline  curl download only (2 at a time)   %7.3f s   %9.0f entries/s  %6.1f MB/s\n' \
  "$base_s" "$(echo "$entries / $base_s" | bc -l)" "$(echo "$corpus_bytes / 1000000 / $base_s" | bc -l)"
printf 'feedsift  fetch --once, empty store         %7.3f s   %9.0f entries/s  %6.1f MB/s   peak RSS %d MB\n' \
  "$fetch_s" "$(echo "$entries / $fetch_s" | bc -l)" "$(echo "$corpus_bytes / 1000000 / $fetch_s" | bc -l)" "$((rss_kb / 1024))"
printf 'feedsift  CPU time (user+sys, 2 cores)     %7.3f s   %9.0f entries per CPU-second\n' \
  "$cpu_s" "$(echo "$entries / $cpu_s" | bc -l)"
printf 'feedsift  fetch --once, one core (taskset) %7.3f s   %9.0f entries/s  %6.1f MB/s\n' \
  "$one_s" "$(echo "$entries / $one_s" | bc -l)" "$(echo "$corpus_bytes / 1000000 / $one_s" | bc -l)"
printf 'feedsift  fetch --once again, all 304       %7.3f s   (%d of %d sources not modified)    peak RSS %d MB\n' \
  "$refetch_s" "$not_modified" "$FEEDS" "$((rss2_kb / 1024))"
printf 'feedsift  serve files them in 2 topic indexes %5.3f s   (daemon start to empty backlog)\n' "$file_s"
printf 'ratio     feedsift time / baseline time     %7.2fx\n' "$(echo "$fetch_s / $base_s" | bc -l)"
printf 'stories   %d new, %d updated (same story in another listing), %d unchanged, %d skipped; %d sources failed; store %d MB\n' \
  "$stored" "$updated" "$unchanged" "$skipped" "$failed" "$((data_kb / 1024))"
printf 'target    >= 20000 entries/s end to end on one core: %.0f, %s (on 2 cores: %.0f)\n' \
  "$(echo "$entries / $one_s" | bc -l)" "$(echo "$entries / $one_s >= 20000" | bc -l | sed 's/1/met/;s/0/MISSED/')" \
  "$(echo "$entries / $fetch_s" | bc -l)"
[ "$failed" = 0 ] || { echo "some sources failed:"; grep FAILED "$WORK/fetch.out" | head; exit 1; }
