#!/usr/bin/env bash
# Disk use of the store over many polls of the same feeds. sled is log-structured: every
# overwrite appends, and old segments are reclaimed later. This polls the four site fixtures
# ROUNDS times, alternating between the two captures of each site so points change and every
# story is rewritten on every poll, and prints the data dir's size as it goes.
# Usage: scripts/measure-disk.sh [ROUNDS]   (default 300; uses the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-300}
cargo build --release --quiet
bin=target/release/feedsift
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/www"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/www" >/dev/null 2>&1 &
pids+=($!)
cat > "$work/feeds.toml" <<TOML
[server]
data_dir = "data"
[[source]]
id = "hn"
kind = "hackernews"
url = "http://127.0.0.1:$port/hn.json"
[[source]]
id = "reddit"
kind = "reddit"
subreddit = "programming"
url = "http://127.0.0.1:$port/reddit.json"
[[source]]
id = "lobsters"
kind = "lobsters"
url = "http://127.0.0.1:$port/lobsters.json"
[[source]]
id = "devto"
kind = "devto"
url = "http://127.0.0.1:$port/devto.json"
[[topic]]
slug = "all"
title = "All"
summaries = "feed"
window = "3650d"
TOML
serve_round() {
  local suffix=$1 round=$2
  cp fixtures/sites/hn_front_page$suffix.json "$work/www/hn.json"
  cp fixtures/sites/reddit_programming_top$suffix.json "$work/www/reddit.json"
  cp fixtures/sites/lobsters_hottest$suffix.json "$work/www/lobsters.json"
  cp fixtures/sites/devto_top$suffix.json "$work/www/devto.json"
  # A later mtime every round defeats If-Modified-Since: every round is a full fetch.
  touch -d "@$(( 1700000000 + round ))" "$work/www/"*.json
}
sleep 0.3
step=$(( rounds >= 10 ? rounds / 10 : 1 ))
printf '%8s %14s  %s\n' round "store bytes" "stories rewritten"
for round in $(seq 1 "$rounds"); do
  if (( round % 2 )); then serve_round "" "$round"; else serve_round "_2" "$round"; fi
  "$bin" fetch --once --config "$work/feeds.toml" >"$work/fetch.log"
  if [ "$round" -eq 1 ] || [ $(( round % step )) -eq 0 ]; then
    updated=$( (grep -o '[0-9]* updated' "$work/fetch.log" || true) | awk '{s+=$1} END {print s+0}')
    printf '%8d %14d  %s\n' "$round" "$(du -sb "$work/data" | cut -f1)" "$updated"
  fi
done
