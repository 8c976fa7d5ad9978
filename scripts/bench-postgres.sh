#!/usr/bin/env bash
# PostgreSQL beside sled: the same measurements on both engines, in one run on one machine,
# with PostgreSQL / sled ratios. A throwaway cluster (scripts/pg-cluster.sh) on this machine,
# one fresh database per measurement; sled stores in a temp dir.
#
#   1. ingest   bench-ingest.sh's corpus and method: FEEDS x ENTRIES entries served by a local
#               python3 http.server, `feedsift fetch --once` into a store whose two topic
#               indexes a `serve` built first; entries/s end to end (process start to every
#               story stored), on both cores (feedsift, the server and PostgreSQL share them).
#               Also CPU seconds: feedsift's, and the cluster's (postmaster, its children and
#               the children it reaped) during the fetch. REPEAT runs per engine, alternating.
#   2. render   bench-scale.sh's stores and topics: SMALL and LARGE stories over 365 days,
#               filled by examples/gen_store (Store::apply, 1000 candidates a batch: the
#               library's write path, no HTTP), a first `serve` until every topic is indexed,
#               then a second `serve`: cold start and the 30-day "distributed-systems" render
#               on a cache miss (median of RENDERS after 3 warm-up renders, the first reported
#               as "first"). A miss is forced with `?limit=030`, `?limit=0030`, ...: the same
#               narrowing (the topic's own limit) under a new cache key each time (unknown
#               parameters no longer miss: the cache keys on the canonical narrowing).
#   3. serve    bench-serve.sh's store and topic (SERVE_STORIES over 30 days, one topic of
#               LIMIT items, ~100 KB of RSS): `wrk -t2 -c$CONNECTIONS --latency` against one
#               daemon per engine, plain 200 and gzip, REPEAT rounds alternating engines; the
#               renders the daemon did during each run are counted (expected: 0).
#   4. visibility  two `serve` nodes on one database, a topic of every story newest first;
#               VIS_ROUNDS times, a new story written by another process (gen_store, one
#               story) and the time until each node serves a feed with it (polled every
#               ~6-10 ms, from the writer's exit; scripts/bench/visibility.py). PostgreSQL only (sled has one process);
#               the baseline in the same run is one request of that feed from a node.
#
# Usage: scripts/bench-postgres.sh            (~9 min: LARGE=1000000, 3 runs of each; ~3 GB of disk at most)
#        QUICK=1 scripts/bench-postgres.sh    (~1 min smoke test: 50 listings, 10k and 100k
#                                             stories, 3 s wrk runs, one run of each)
# Env:   FEEDS (200), ENTRIES (100), SMALL (10000), LARGE (1000000), RENDERS (9), REPEAT (3),
#        SERVE_STORIES (5000), LIMIT (80), DURATION (wrk -d, "10s"), CONNECTIONS (64),
#        PG_FILL_MAX (600: seconds the PostgreSQL fill of LARGE may take, projected from the
#        SMALL fill; beyond, LARGE_FALLBACK (100000) is measured instead, and said so),
#        PG_SHARED_BUFFERS (64MB: sled's page cache is 64 MB), BIN (target/release/feedsift),
#        VIS_ROUNDS (20), PARTS ("ingest render serve visibility"), PG_STATEMENTS (1: pg_stat_statements loaded, and the
#        statements of each step reported; it costs PostgreSQL a little), PG_SYNCHRONOUS_COMMIT
#        (on: every commit waits for its WAL fsync, as sled's flush does; off: an experiment),
#        KEEP=1 keeps the temp dir (the cluster is stopped).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${QUICK:-0}" = 1 ]; then
  FEEDS=${FEEDS:-50}
  LARGE=${LARGE:-100000}
  DURATION=${DURATION:-3s}
  REPEAT=${REPEAT:-1}
  RENDERS=${RENDERS:-5}
fi
FEEDS=${FEEDS:-200}
ENTRIES=${ENTRIES:-100}
SMALL=${SMALL:-10000}
LARGE=${LARGE:-1000000}
LARGE_FALLBACK=${LARGE_FALLBACK:-100000}
RENDERS=${RENDERS:-9}
REPEAT=${REPEAT:-3}
SERVE_STORIES=${SERVE_STORIES:-5000}
LIMIT=${LIMIT:-80}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
PG_FILL_MAX=${PG_FILL_MAX:-600}
PG_SHARED_BUFFERS=${PG_SHARED_BUFFERS:-64MB}
PARTS=${PARTS:-"ingest render serve visibility"}
VIS_ROUNDS=${VIS_ROUNDS:-20}
PG_STATEMENTS=${PG_STATEMENTS:-1}
PG_SYNCHRONOUS_COMMIT=${PG_SYNCHRONOUS_COMMIT:-on}
TARGET=${CARGO_TARGET_DIR:-target}
BIN=${BIN:-$TARGET/release/feedsift}
GEN_STORE=$TARGET/release/examples/gen_store
GEN_CORPUS=$TARGET/release/examples/gen_corpus
BEGAN=$SECONDS

nice cargo build --release --quiet -j2 --bin feedsift --example gen_store --example gen_corpus
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
command -v psql >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null; }
BIN=$(readlink -f "$BIN")

WORK=$(mktemp -d)
# The cluster's directory: short (a unix socket lives in it) and traversable by `nobody`.
PGDIR=$(mktemp -d /tmp/pgbXXXXXX)
PIDS=()
stop() { # pid: SIGTERM, then SIGKILL after 15 s; forgotten by cleanup
  local pid=$1 p rest=()
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || rest+=("$p"); done
  PIDS=("${rest[@]}")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop "$pid"; done
  bash scripts/pg-cluster.sh stop "$PGDIR" >/dev/null 2>&1 || true
  rm -rf "$PGDIR"
  [ "${KEEP:-0}" = 1 ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
now() { date +%s.%N; }
calc() { echo "$*" | bc -l; }
human() { awk -v n="$1" 'BEGIN { if (n >= 1000000) printf "%gM", n / 1000000; else if (n >= 1000) printf "%gk", n / 1000; else print n }'; }
say() { echo "[$(date -u +%T) +$((SECONDS - BEGAN))s] $*" >&2; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --- the cluster ------------------------------------------------------------------------------
say "starting a PostgreSQL cluster in $PGDIR"
PGURL=$(bash scripts/pg-cluster.sh start "$PGDIR")
psql -qAt "$PGURL" -c "ALTER SYSTEM SET shared_buffers = '$PG_SHARED_BUFFERS'" >/dev/null
# pg_stat_statements counts the statements of each measured step (reported after the table).
[ "$PG_STATEMENTS" = 1 ] && psql -qAt "$PGURL" -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
bash scripts/pg-cluster.sh stop "$PGDIR"
PGURL=$(bash scripts/pg-cluster.sh start "$PGDIR")
[ "$PG_STATEMENTS" = 1 ] && psql -qAt "$PGURL" -c "CREATE EXTENSION pg_stat_statements" >/dev/null
PG_VERSION=$(psql -qAt "$PGURL" -c 'SHOW server_version')
PG_SETTINGS=$(psql -qAt "$PGURL" -c "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('shared_buffers', 'fsync', 'synchronous_commit', 'wal_level', 'shared_preload_libraries')")
# A fresh database (a name of its own: this runs in a subshell); prints its URL.
new_db() {
  local name
  name="bench_$1_$(date +%s%N)"
  psql -qAt -v ON_ERROR_STOP=1 "$PGURL" -c "CREATE DATABASE $name" >/dev/null || exit 1
  [ "$PG_SYNCHRONOUS_COMMIT" = on ] || psql -qAt -v ON_ERROR_STOP=1 "$PGURL" -c "ALTER DATABASE $name SET synchronous_commit = $PG_SYNCHRONOUS_COMMIT" >/dev/null || exit 1
  echo "${PGURL%/postgres}/$name"
}
# Statement counts (pg_stat_statements) since the last `stmt_reset`, in database URL `db`:
# calls divided by `per`, mean and total time, the `top` most called statements, into FILE.
stmt_reset() { [ "$PG_STATEMENTS" = 1 ] || return 0; psql -qAt "$PGURL" -c 'SELECT pg_stat_statements_reset()' >/dev/null; }
stmt_report() { # db per top file
  [ "$PG_STATEMENTS" = 1 ] || return 0
  psql -qAt -F $'\t' "$PGURL" > "$4" <<SQL
SELECT round(sum(calls) / $2.0, 1), round(sum(total_exec_time)::numeric / $2, 2), 'every statement' FROM pg_stat_statements
  WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '${1##*/}');
SELECT round(calls / $2.0, 1), round(total_exec_time::numeric / $2, 2), round(mean_exec_time::numeric, 3) || ' ms each: ' || left(regexp_replace(query, '\s+', ' ', 'g'), 150)
  FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '${1##*/}')
  ORDER BY calls DESC LIMIT $3;
SQL
}
print_stmts() { # title file
  [ -s "$2" ] || return 0
  echo "$1"
  awk -F'\t' '{ printf "  %10s calls %10s ms   %s\n", $1, $2, $3 }' "$2"
}
db_mb() { psql -qAt "$1" -c 'SELECT pg_database_size(current_database()) / 1048576.0'; }
CLK_TCK=$(getconf CLK_TCK)
# CPU seconds the cluster has used: the postmaster (with the children it reaped) and its
# live children. The backends of a client that just exited are first waited for (up to 5 s,
# until no more children live than `PG_CHILDREN`), so their time is counted once, as reaped.
pg_children() { ps -o pid= --ppid "$(head -1 "$PGDIR/data/postmaster.pid")" | wc -l; }
pg_cpu() {
  local pm ticks=0 t p
  pm=$(head -1 "$PGDIR/data/postmaster.pid")
  for _ in $(seq 100); do [ "$(pg_children)" -le "${PG_CHILDREN:-999}" ] && break; sleep 0.05; done
  for p in $(ps -o pid= --ppid "$pm"); do
    t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }') || continue
    ticks=$((ticks + ${t:-0}))
  done
  t=$(sed 's/^.*) //' "/proc/$pm/stat" | awk '{ print $12 + $13 + $14 + $15 }')
  ticks=$((ticks + t))
  calc "$ticks / $CLK_TCK"
}
# Starts `serve` on an engine in the background; sets SERVE_PID.
serve_bg() { # engine config log
  if [ "$1" = sled ]; then
    env -u FEEDSIFT_STORE_URL "$BIN" --config "$2" serve 2>> "$3" &
  else
    FEEDSIFT_STORE_URL=$1 "$BIN" --config "$2" serve 2>> "$3" &
  fi
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
}
# Waits until /healthz at `health` satisfies a python condition on its JSON `h`.
wait_health() { # health condition pid log
  until curl -sf "$1" 2>/dev/null | python3 -c "import json,sys; h=json.load(sys.stdin); sys.exit(0 if $2 else 1)" 2>/dev/null; do
    kill -0 "$3" 2>/dev/null || { tail -30 "$4" >&2; exit 1; }
    sleep 0.02
  done
}
indexed='all(t["indexed"] for t in h["topics"])'
declare -A F # figures

# --- 1. ingest --------------------------------------------------------------------------------
ingest() {
  local port base serve_port health engine run db cfg t0 t1 c0 c1 fetch_s failed http_pid
  port=$(free_port)
  base="http://127.0.0.1:$port"
  mkdir -p "$WORK/corpus"
  "$GEN_CORPUS" "$WORK/corpus" "$FEEDS" "$ENTRIES" "$base" > "$WORK/sources.toml"
  # The server gets the last core (as in bench-ingest.sh).
  taskset -c "$(($(nproc) - 1))" python3 -m http.server "$port" --bind 127.0.0.1 --directory "$WORK/corpus" >/dev/null 2>&1 &
  http_pid=$!
  PIDS+=("$http_pid")
  for _ in $(seq 50); do curl -sf -o /dev/null "$base/" && break; sleep 0.1; done
  serve_port=$(free_port)
  health="http://127.0.0.1:$serve_port/healthz"
  F[ingest_entries]=$((FEEDS * ENTRIES))
  F[ingest_mb]=$(calc "$(du -sb "$WORK/corpus" | cut -f1) / 1000000")
  for run in $(seq "$REPEAT"); do
    for engine in sled postgres; do
      cfg="$WORK/ingest-$engine-$run"
      mkdir -p "$cfg"
      {
        printf '[server]\ndata_dir = "%s"\nlisten = "127.0.0.1:%s"\n\n' "$cfg/data" "$serve_port"
        cat scripts/bench/ingest-topics.toml
      } > "$cfg/prime.toml"
      { cat "$cfg/prime.toml"; cat "$WORK/sources.toml"; } > "$cfg/feeds.toml"
      if [ "$engine" = sled ]; then db=sled; else db=$(new_db ingest); fi
      # The store starts with its (empty) topic indexes built, as a store a daemon served.
      serve_bg "$db" "$cfg/prime.toml" "$cfg/serve.log"
      wait_health "$health" "$indexed" "$SERVE_PID" "$cfg/serve.log"
      stop "$SERVE_PID"
      sync
      stmt_reset
      PG_CHILDREN=$(pg_children)
      c0=$(pg_cpu)
      t0=$(now)
      if [ "$engine" = sled ]; then
        env -u FEEDSIFT_STORE_URL /usr/bin/time -v "$BIN" --config "$cfg/feeds.toml" fetch --once > "$cfg/fetch.out" 2> "$cfg/time.txt" ||
          { tail "$cfg/time.txt" >&2; exit 1; }
      else
        FEEDSIFT_STORE_URL=$db /usr/bin/time -v "$BIN" --config "$cfg/feeds.toml" fetch --once > "$cfg/fetch.out" 2> "$cfg/time.txt" ||
          { tail "$cfg/time.txt" >&2; exit 1; }
      fi
      t1=$(now)
      c1=$(pg_cpu)
      PG_CHILDREN=""
      fetch_s=$(calc "$t1 - $t0")
      [ "$engine" = sled ] || stmt_report "$db" 1 8 "$WORK/stmts-ingest.txt"
      failed=$(grep -c " FAILED " "$cfg/fetch.out" || true)
      [ "$failed" = 0 ] || { echo "ingest on $engine: $failed sources failed" >&2; grep FAILED "$cfg/fetch.out" | head >&2; exit 1; }
      F[ingest_${engine}_$run]=$fetch_s
      F[ingest_${engine}_cpu_$run]=$(awk -F: '/User time|System time/ { s += $2 } END { print s }' "$cfg/time.txt")
      F[ingest_${engine}_pgcpu_$run]=$(calc "$c1 - $c0")
      F[ingest_${engine}_rss]=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print int($2 / 1024) }' "$cfg/time.txt")
      F[ingest_${engine}_new]=$(awk '/ ok / { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^new,/) n += $i } END { print n + 0 }' "$cfg/fetch.out")
      if [ "$engine" = sled ]; then F[ingest_${engine}_size]=$(calc "$(du -sb "$cfg/data" | cut -f1) / 1048576"); else F[ingest_${engine}_size]=$(db_mb "$db"); fi
      say "ingest $engine run $run: $fetch_s s = $(calc "${F[ingest_entries]} / $fetch_s" | xargs printf '%.0f') entries/s; ${F[ingest_${engine}_new]} new stories; CPU feedsift ${F[ingest_${engine}_cpu_$run]} s, cluster $(printf '%.2f' "${F[ingest_${engine}_pgcpu_$run]}") s"
      rm -rf "$cfg/data"
    done
  done
  stop "$http_pid"
  for engine in sled postgres; do
    F[ingest_${engine}]=$(for run in $(seq "$REPEAT"); do echo "${F[ingest_${engine}_$run]}"; done | median)
    F[ingest_${engine}_cpu]=$(for run in $(seq "$REPEAT"); do echo "${F[ingest_${engine}_cpu_$run]}"; done | median)
    F[ingest_${engine}_pgcpu]=$(for run in $(seq "$REPEAT"); do echo "${F[ingest_${engine}_pgcpu_$run]}"; done | median)
    F[ingest_${engine}_all]=$(for run in $(seq "$REPEAT"); do calc "${F[ingest_entries]} / ${F[ingest_${engine}_$run]}" | xargs printf '%.0f '; done)
  done
  rm -rf "$WORK/corpus"
}

# --- 2. render --------------------------------------------------------------------------------
# A term no story has changes the topics' fingerprints (as bench-scale.sh does): every store
# here is fresh anyway.
cp scripts/bench/scale-topics.toml "$WORK/topics.toml"

# Fills, indexes and renders one store; figures under F[<what>_<engine>_<n>].
render_one() { # engine n
  local engine=$1 n=$2 key="${1}_$2" db store port cfg feed health t0 pid i z
  port=$(free_port)
  cfg="$WORK/render-$key.toml"
  feed="http://127.0.0.1:$port/t/distributed-systems.rss"
  health="http://127.0.0.1:$port/healthz"
  if [ "$engine" = sled ]; then store="$WORK/store-$n"; db=sled; else store="$WORK/unused-$n"; db=$(new_db "s$n"); fi
  { printf '[server]\nlisten = "127.0.0.1:%s"\ndata_dir = "%s"\n\n' "$port" "$store"; cat "$WORK/topics.toml"; } > "$cfg"
  say "render $engine $(human "$n"): filling with gen_store ..."
  t0=$(now)
  if [ "$engine" = sled ]; then "$GEN_STORE" "$store" "$n" 365 60 > /dev/null 2> "$WORK/gen-$key.log"; else "$GEN_STORE" "$db" "$n" 365 60 > /dev/null 2> "$WORK/gen-$key.log"; fi
  F[fill_$key]=$(calc "$(now) - $t0")
  sync
  if [ "$engine" = sled ]; then F[size_$key]=$(calc "$(du -sb "$store" | cut -f1) / 1048576"); else F[size_$key]=$(db_mb "$db"); fi
  say "render $engine $(human "$n"): filled in ${F[fill_$key]} s; building the indexes ..."
  t0=$(now)
  serve_bg "$db" "$cfg" "$WORK/build-$key.log"
  pid=$SERVE_PID
  wait_health "$health" "$indexed" "$pid" "$WORK/build-$key.log"
  F[build_$key]=$(calc "$(now) - $t0")
  stop "$pid"
  sync
  t0=$(now)
  serve_bg "$db" "$cfg" "$WORK/serve-$key.log"
  pid=$SERVE_PID
  until curl -sf -o /dev/null "$feed"; do
    kill -0 "$pid" 2>/dev/null || { tail -30 "$WORK/serve-$key.log" >&2; exit 1; }
    sleep 0.01
  done
  F[cold_$key]=$(calc "$(now) - $t0")
  # Each `limit=0…030` is the topic's own limit under a cache key of its own: a miss.
  z=30
  miss() { z="0$z"; curl -sf -o /dev/null -w '%{time_total}\n' "$feed?limit=$z"; }
  F[first_$key]=$(miss)
  miss > /dev/null
  miss > /dev/null
  stmt_reset
  for i in $(seq "$RENDERS"); do miss; done > "$WORK/renders-$key.txt"
  [ "$engine" = sled ] || stmt_report "$db" "$RENDERS" 6 "$WORK/stmts-render-$n.txt"
  F[render_$key]=$(median < "$WORK/renders-$key.txt")
  F[slowest_$key]=$(sort -g "$WORK/renders-$key.txt" | tail -1)
  F[misses_$key]=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/render_cache_total\{result="miss"\}/ { print $2 }')
  F[rss_$key]=$(awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$pid/status")
  curl -sf -o "$WORK/feed-$key.rss" "$feed"
  stop "$pid"
  [ "${F[misses_$key]}" -ge $((RENDERS + 3)) ] || { echo "render $key: only ${F[misses_$key]} cache misses for $((RENDERS + 4)) requests" >&2; exit 1; }
  say "render $engine $(human "$n"): index build ${F[build_$key]} s, cold start ${F[cold_$key]} s, render $(calc "${F[render_$key]} * 1000" | xargs printf '%.1f') ms (first $(calc "${F[first_$key]} * 1000" | xargs printf '%.1f') ms)"
  if [ "$engine" = sled ]; then rm -rf "$store"; else psql -qAt "$PGURL" -c "DROP DATABASE ${db##*/}" >/dev/null; fi
}

render() {
  render_one sled "$SMALL"
  render_one postgres "$SMALL"
  # The PostgreSQL fill of LARGE, projected from SMALL's (gen_store's rate is about flat).
  local projected
  projected=$(calc "${F[fill_postgres_$SMALL]} * $LARGE / $SMALL")
  F[large]=$LARGE
  F[large_note]=""
  if [ "$(calc "$projected > $PG_FILL_MAX")" = 1 ]; then
    F[large_note]="$(human "$LARGE") not measured: its PostgreSQL fill was projected at $(printf '%.0f' "$projected") s (> PG_FILL_MAX=$PG_FILL_MAX s); $(human "$LARGE_FALLBACK") instead"
    say "${F[large_note]}"
    F[large]=$LARGE_FALLBACK
  fi
  render_one sled "${F[large]}"
  render_one postgres "${F[large]}"
}

# --- 3. serve ---------------------------------------------------------------------------------
serve() {
  local engine db port cfg pid round kind rps
  declare -gA SERVE_URL SERVE_PORT
  for engine in sled postgres; do
    port=$(free_port)
    cfg="$WORK/serve-$engine"
    mkdir -p "$cfg"
    {
      printf '[server]\nlisten = "127.0.0.1:%s"\ndata_dir = "%s"\n\n' "$port" "$cfg/data"
      sed "s/@LIMIT@/$LIMIT/" scripts/bench/serve-topic.toml
    } > "$cfg/feeds.toml"
    if [ "$engine" = sled ]; then
      db=sled
      "$GEN_STORE" "$cfg/data" "$SERVE_STORIES" 30 60 > /dev/null 2>&1
    else
      db=$(new_db serve)
      "$GEN_STORE" "$db" "$SERVE_STORIES" 30 60 > /dev/null 2>&1
    fi
    serve_bg "$db" "$cfg/feeds.toml" "$cfg/serve.log"
    SERVE_URL[$engine]="http://127.0.0.1:$port/t/bench.rss"
    SERVE_PORT[$engine]=$port
    for _ in $(seq 200); do curl -sf -o /dev/null "${SERVE_URL[$engine]}" && break; sleep 0.1; done
    curl -sf -o "$cfg/feed.rss" "${SERVE_URL[$engine]}"
    F[serve_bytes_$engine]=$(stat -c %s "$cfg/feed.rss")
    F[serve_gzbytes_$engine]=$(curl -sf -H 'Accept-Encoding: gzip' "${SERVE_URL[$engine]}" | wc -c)
    curl -sf -o /dev/null -H 'Accept-Encoding: gzip' "${SERVE_URL[$engine]}"
  done
  misses() { curl -sf "http://127.0.0.1:${SERVE_PORT[$1]}/metrics" | awk '/render_cache_total\{result="miss"\}/ { print $2 }'; }
  for round in $(seq "$REPEAT"); do
    for kind in 200 gzip; do
      for engine in sled postgres; do
        local before
        before=$(misses "$engine")
        if [ "$kind" = gzip ]; then
          wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H 'Accept-Encoding: gzip' "${SERVE_URL[$engine]}" > "$WORK/wrk.out" 2>&1
        else
          wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "${SERVE_URL[$engine]}" > "$WORK/wrk.out" 2>&1
        fi
        read -r rps p99 < <(awk '
          function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
          /Requests\/sec/ { rps = $2 }
          $1 == "99%" { p99 = ms($2) }
          END { printf "%.0f %.3f\n", rps, p99 }' "$WORK/wrk.out")
        if grep -qE "Non-2xx|Socket errors" "$WORK/wrk.out"; then grep -E "Non-2xx|Socket errors" "$WORK/wrk.out" | sed "s/^ */  $engine $kind: /" >&2; fi
        F[rps_${kind}_${engine}_$round]=$rps
        F[p99_${kind}_${engine}_$round]=$p99
        F[renders_${kind}_${engine}]=$(( ${F[renders_${kind}_${engine}]:-0} + $(misses "$engine") - before ))
        say "serve $kind $engine round $round: $rps req/s, p99 $p99 ms"
      done
    done
  done
  for kind in 200 gzip; do
    for engine in sled postgres; do
      F[rps_${kind}_$engine]=$(for r in $(seq "$REPEAT"); do echo "${F[rps_${kind}_${engine}_$r]}"; done | median)
      F[p99_${kind}_$engine]=$(for r in $(seq "$REPEAT"); do echo "${F[p99_${kind}_${engine}_$r]}"; done | median)
      F[rps_${kind}_${engine}_all]=$(for r in $(seq "$REPEAT"); do printf '%s ' "${F[rps_${kind}_${engine}_$r]}"; done)
    done
  done
}

# --- 4. visibility ----------------------------------------------------------------------------
visibility() {
  local db node port pids=() feeds=() cfg
  db=$(new_db vis)
  for node in a b; do
    port=$(free_port)
    cfg="$WORK/vis-$node.toml"
    { printf '[server]\nlisten = "127.0.0.1:%s"\ndata_dir = "%s"\n\n[store]\nnode_id = "vis-%s"\n\n' "$port" "$WORK/vis-$node" "$node"
      cat scripts/bench/visibility-topic.toml; } > "$cfg"
    serve_bg "$db" "$cfg" "$WORK/vis-$node.log"
    pids+=("$SERVE_PID")
    feeds+=("http://127.0.0.1:$port/t/latest.json")
    wait_health "http://127.0.0.1:$port/healthz" "$indexed" "$SERVE_PID" "$WORK/vis-$node.log"
  done
  [ "$VIS_ROUNDS" -ge 1 ] || { echo "VIS_ROUNDS must be at least 1" >&2; exit 2; }
  # One story first, served by both nodes, so the rounds never start from an empty feed.
  GEN_STORE_FIRST=999999 "$GEN_STORE" "$db" 1 1 20 > /dev/null 2>> "$WORK/vis-gen.log" || { cat "$WORK/vis-gen.log" >&2; exit 1; }
  local url body served
  for url in "${feeds[@]}"; do
    served=""
    for _ in $(seq 200); do
      body=$(curl -sf "$url" || true)
      case $body in *'"url"'*) served=1; break ;; esac
      sleep 0.05
    done
    [ -n "$served" ] || { echo "visibility: $url never served the first story" >&2; exit 1; }
  done
  for _ in $(seq 20); do curl -sf -o /dev/null -w '%{time_total}\n' "${feeds[0]}"; done > "$WORK/vis-request.txt"
  say "visibility: $VIS_ROUNDS writes, two nodes watching ..."
  python3 scripts/bench/visibility.py "$GEN_STORE" "$db" "$VIS_ROUNDS" "${feeds[@]}" > "$WORK/vis.txt"
  for node in "${pids[@]}"; do stop "$node"; done
  F[vis_request]=$(median < "$WORK/vis-request.txt")
  F[vis_a]=$(awk '{ print $1 }' "$WORK/vis.txt" | median)
  F[vis_b]=$(awk '{ print $2 }' "$WORK/vis.txt" | median)
  F[vis_writer]=$(awk '{ print $3 }' "$WORK/vis.txt" | median)
  F[vis_max]=$(awk '{ print $1; print $2 }' "$WORK/vis.txt" | sort -g | tail -1)
  F[vis_over_1s]=$(awk '$1 > 1 { n++ } $2 > 1 { n++ } END { print n + 0 }' "$WORK/vis.txt")
  say "visibility: median ${F[vis_a]} s / ${F[vis_b]} s, slowest ${F[vis_max]} s"
}

for part in $PARTS; do
  case $part in
    ingest | render | serve | visibility) "$part" ;;
    *) echo "unknown part $part (ingest, render, serve, visibility)" >&2; exit 2 ;;
  esac
done

# --- report -----------------------------------------------------------------------------------
ms() { calc "$1 * 1000" | xargs printf '%.1f ms'; }
ratio() { calc "($1) / ($2)" | xargs printf '%.2fx'; }
row() { printf '%-58s %16s %16s %8s\n' "$@"; }
echo
echo "== PostgreSQL beside sled ($(date -u +%FT%TZ), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src examples benches || echo '+changes'), $((SECONDS - BEGAN)) s)"
echo "PostgreSQL $PG_VERSION, local cluster on this machine ($PG_SETTINGS; the benchmark's databases: synchronous_commit=$PG_SYNCHRONOUS_COMMIT); $(nproc) cores shared by everything"
row "" sled PostgreSQL "pg/sled"
for part in $PARTS; do
  case $part in
    ingest)
      s=${F[ingest_sled]} p=${F[ingest_postgres]} e=${F[ingest_entries]}
      row "ingest $FEEDS x $ENTRIES entries ($(printf '%.1f' "${F[ingest_mb]}") MB), fetch --once, entries/s" \
        "$(calc "$e / $s" | xargs printf '%.0f')" "$(calc "$e / $p" | xargs printf '%.0f')" "$(ratio "$s" "$p")"
      row "  each run (median above), entries/s" "${F[ingest_sled_all]}" "${F[ingest_postgres_all]}" ""
      row "  feedsift CPU (user+sys, median)" "${F[ingest_sled_cpu]} s" "${F[ingest_postgres_cpu]} s" "$(ratio "${F[ingest_postgres_cpu]}" "${F[ingest_sled_cpu]}")"
      row "  PostgreSQL server CPU during the fetch (median)" "-" "$(printf '%.2f s' "${F[ingest_postgres_pgcpu]}")" ""
      row "  all CPU (feedsift + server) per 1000 entries" "$(calc "${F[ingest_sled_cpu]} * 1000 / $e" | xargs printf '%.3f s')" \
        "$(calc "(${F[ingest_postgres_cpu]} + ${F[ingest_postgres_pgcpu]}) * 1000 / $e" | xargs printf '%.3f s')" \
        "$(ratio "${F[ingest_postgres_cpu]} + ${F[ingest_postgres_pgcpu]}" "${F[ingest_sled_cpu]}")"
      row "  store size after ingest" "$(printf '%.0f MB' "${F[ingest_sled_size]}")" "$(printf '%.0f MB' "${F[ingest_postgres_size]}")" "$(ratio "${F[ingest_postgres_size]}" "${F[ingest_sled_size]}")"
      row "  feedsift peak RSS" "${F[ingest_sled_rss]} MB" "${F[ingest_postgres_rss]} MB" ""
      row "  stories stored" "${F[ingest_sled_new]}" "${F[ingest_postgres_new]}" ""
      ;;
    render)
      for n in "$SMALL" "${F[large]}"; do
        s=sled_$n p=postgres_$n
        row "$(human "$n") stories: fill (gen_store, Store::apply x1000)" "$(printf '%.1f s' "${F[fill_$s]}")" "$(printf '%.1f s' "${F[fill_$p]}")" "$(ratio "${F[fill_$p]}" "${F[fill_$s]}")"
        row "  store size (sled dir / pg_database_size)" "$(printf '%.0f MB' "${F[size_$s]}")" "$(printf '%.0f MB' "${F[size_$p]}")" "$(ratio "${F[size_$p]}" "${F[size_$s]}")"
        row "  first serve: both topic indexes built" "$(printf '%.1f s' "${F[build_$s]}")" "$(printf '%.1f s' "${F[build_$p]}")" "$(ratio "${F[build_$p]}" "${F[build_$s]}")"
        row "  cold start (process start to first feed)" "$(printf '%.3f s' "${F[cold_$s]}")" "$(printf '%.3f s' "${F[cold_$p]}")" "$(ratio "${F[cold_$p]}" "${F[cold_$s]}")"
        row "  30-day render, cache miss, first after start" "$(ms "${F[first_$s]}")" "$(ms "${F[first_$p]}")" "$(ratio "${F[first_$p]}" "${F[first_$s]}")"
        row "  30-day render, cache miss, median of $RENDERS" "$(ms "${F[render_$s]}")" "$(ms "${F[render_$p]}")" "$(ratio "${F[render_$p]}" "${F[render_$s]}")"
        row "  30-day render, cache miss, slowest of $RENDERS" "$(ms "${F[slowest_$s]}")" "$(ms "${F[slowest_$p]}")" "$(ratio "${F[slowest_$p]}" "${F[slowest_$s]}")"
        row "  daemon RSS after the renders" "${F[rss_$s]} MB" "${F[rss_$p]} MB" ""
      done
      [ -z "${F[large_note]}" ] || echo "note: ${F[large_note]}"
      ;;
    serve)
      for kind in 200 gzip; do
        row "cached feed $kind ($(calc "${F[serve_bytes_sled]} / 1000" | xargs printf '%.0f') KB), req/s, wrk -c$CONNECTIONS -d$DURATION" \
          "${F[rps_${kind}_sled]}" "${F[rps_${kind}_postgres]}" "$(ratio "${F[rps_${kind}_postgres]}" "${F[rps_${kind}_sled]}")"
        row "  each run (median above)" "${F[rps_${kind}_sled_all]}" "${F[rps_${kind}_postgres_all]}" ""
        row "  p99 (median of runs)" "${F[p99_${kind}_sled]} ms" "${F[p99_${kind}_postgres]} ms" "$(ratio "${F[p99_${kind}_postgres]}" "${F[p99_${kind}_sled]}")"
        row "  renders during the runs" "${F[renders_${kind}_sled]}" "${F[renders_${kind}_postgres]}" ""
      done
      ;;
    visibility)
      row "a write seen by two nodes, median (node a / node b)" "-" "$(ms "${F[vis_a]}") / $(ms "${F[vis_b]}")" ""
      row "  slowest of $VIS_ROUNDS writes x 2 nodes; over 1 s" "-" "$(ms "${F[vis_max]}"); ${F[vis_over_1s]}" ""
      row "  the writer's run (gen_store, median; the commit is in it)" "-" "$(ms "${F[vis_writer]}")" ""
      row "  baseline: one request of that feed (median)" "-" "$(ms "${F[vis_request]}")" \
        "$(ratio "${F[vis_a]}" "${F[vis_request]}")"
      ;;
  esac
done
print_stmts "PostgreSQL statements of one ingest run (pg_stat_statements; calls, total time in the server):" "$WORK/stmts-ingest.txt"
for n in "$SMALL" "${F[large]:-}"; do
  [ -n "$n" ] && print_stmts "PostgreSQL statements per 30-day render, $(human "$n") stories (mean of $RENDERS; daemon chores included):" "$WORK/stmts-render-$n.txt"
done
echo "ingest: ratio is PostgreSQL entries/s / sled entries/s (higher is better for PostgreSQL); other ratios are PostgreSQL / sled of the figure shown."
echo "stores filled by examples/gen_store through Store::apply (1000 candidates a batch, the write path ingest uses), on both engines alike."
