#!/usr/bin/env bash
# Compares what two feedsift builds serve for the same store: the fixture daemon's store is
# filled once by OLD, then OLD and NEW each serve it in turn, and every topic's feeds, page
# and embed (through `export`), the index, OPML, /healthz and /api/explain are saved and
# diffed. For refactors that must not change a byte a user sees.
# Usage: scripts/output-diff.sh OLD_BIN NEW_BIN   (exit 1 when any output differs)
set -euo pipefail
old=$(realpath "$1")
new=$(realpath "$2")
cd "$(dirname "$0")/.."
source scripts/fixture-daemon.sh "$old"
out=$(mktemp -d)
trap 'fixture_daemon_stop; rm -rf "$out"' EXIT
config="$FIXTURE_WORK/feeds.toml"

capture() { # capture DIR: export, index pages and the JSON endpoints of the running daemon
  local dir=$1 bin=$2
  mkdir -p "$dir"
  "$bin" export --config "$config" --out "$dir/export" >/dev/null
  for path in / /opml /healthz "/api/explain/distributed-systems?all=1" "/api/explain/frontend?all=1" \
              "/t/distributed-systems.rss?limit=2" "/t/frontend.json?q=rust" "/t/nope.rss" "/t/x.txt"; do
    name=$(printf '%s' "$path" | tr -c 'a-zA-Z0-9.' '_')
    curl -s -D "$dir/$name.head" "$FIXTURE_BASE$path" -o "$dir/$name.body"
    # Dates and lengths of a response vary by the second; the body and status must not.
    grep -viE '^(date|content-length):' "$dir/$name.head" > "$dir/$name.h" && rm "$dir/$name.head"
  done
  # An explanation states the window start it computed, which moves with the clock.
  sed -i -E 's/"window_start":"[^"]*"/"window_start":"(now)"/' "$dir"/_api_explain_*.body
}

restart_with() {
  local bin=$1 last=$(( ${#FIXTURE_PIDS[@]} - 1 ))
  kill "${FIXTURE_PIDS[$last]}"; wait "${FIXTURE_PIDS[$last]}" 2>/dev/null || true
  "$bin" serve --config "$config" 2>>"$FIXTURE_WORK/serve.log" &
  FIXTURE_PIDS[$last]=$!
  for _ in $(seq 100); do curl -sf "$FIXTURE_BASE/healthz" >/dev/null && break; sleep 0.1; done
  # Until the topic indexes are built the feeds come from a window scan: same bytes, but
  # /healthz says `indexed: false`; wait for them.
  for _ in $(seq 100); do curl -sf "$FIXTURE_BASE/healthz" | grep -q '"indexed":false' || break; sleep 0.1; done
}

restart_with "$old"
capture "$out/old" "$old"
restart_with "$new"
capture "$out/new" "$new"
if diff -rq "$out/old" "$out/new"; then
  echo "output-diff: identical ($(find "$out/old" -type f | wc -l) files)"
else
  diff -r "$out/old" "$out/new" | cut -c1-300 | head -40 >&2
  echo "output-diff: outputs differ" >&2
  exit 1
fi
