#!/usr/bin/env bash
# Starts feedsift on the repo's fixtures, for the checks under scripts/: a local upstream
# (python3 http.server over fixtures/), a config with the four site sources, the example feed
# sources and two topics, one `fetch --once`, then `serve`.
# Usage: source scripts/fixture-daemon.sh [path/to/feedsift]
#   sets FIXTURE_BASE (the feedsift base URL), FIXTURE_WORK (temp dir), FIXTURE_PIDS;
#   call fixture_daemon_stop when done (it stops every process it started, by pid).
set -euo pipefail
fixture_bin=${1:-target/debug/feedsift}
[ -x "$fixture_bin" ] || cargo build --quiet
FIXTURE_WORK=$(mktemp -d)
FIXTURE_PIDS=()

fixture_daemon_stop() {
  for pid in "${FIXTURE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${FIXTURE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$FIXTURE_WORK"
}

fixture_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
fixture_up_port=$(fixture_free_port)
fixture_port=$(fixture_free_port)
FIXTURE_BASE="http://127.0.0.1:$fixture_port"
python3 -m http.server "$fixture_up_port" --bind 127.0.0.1 --directory fixtures >/dev/null 2>&1 &
FIXTURE_PIDS+=($!)
up="http://127.0.0.1:$fixture_up_port"

cat > "$FIXTURE_WORK/feeds.toml" <<TOML
[server]
listen = "127.0.0.1:$fixture_port"
base_url = "$FIXTURE_BASE"
data_dir = "data"

[[source]]
id = "hn"
kind = "hackernews"
url = "$up/sites/hn_front_page.json"

[[source]]
id = "reddit-programming"
kind = "reddit"
subreddit = "programming"
url = "$up/sites/reddit_programming_top.json"

[[source]]
id = "lobsters"
kind = "lobsters"
url = "$up/sites/lobsters_hottest.json"

[[source]]
id = "devto"
kind = "devto"
url = "$up/sites/devto_top.json"

[[source]]
id = "blog"
kind = "feed"
name = "Example Systems Blog"
url = "$up/feeds/dist-blog.rss"

[[source]]
id = "infra"
kind = "feed"
name = "Infra Weekly"
url = "$up/feeds/infra-weekly.atom"

[[source]]
id = "rustnews"
kind = "feed"
name = "Rust News"
url = "$up/feeds/rust-news.json"

[[topic]]
slug = "distributed-systems"
summaries = "feed"
title = "Distributed Systems"
description = "Consensus algorithms, CAP theorem, fault tolerance, architectural patterns."
window = "3650d"
min_relevance = 2
[topic.keywords]
"raft" = 3
"paxos" = 3
"consensus" = 2
"CAP theorem" = 3
"fault tolerance" = 2
"replication" = 2
[topic.exclude]
terms = ["crypto airdrop"]
[topic.min_points]
hackernews = 100
reddit = 200
lobsters = 15
devto = 25

[[topic]]
slug = "frontend"
summaries = "feed"
title = "Frontend & Rust"
content = "full"
window = "3650d"
sort = "recent"
[topic.keywords]
"javascript" = 1
"rust" = 1
TOML

for _ in $(seq 50); do curl -sf "$up/sites/hn_front_page.json" >/dev/null && break; sleep 0.1; done
"$fixture_bin" fetch --once --config "$FIXTURE_WORK/feeds.toml" >"$FIXTURE_WORK/fetch.log"
"$fixture_bin" serve --config "$FIXTURE_WORK/feeds.toml" 2>"$FIXTURE_WORK/serve.log" &
FIXTURE_PIDS+=($!)
for _ in $(seq 100); do curl -sf "$FIXTURE_BASE/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$FIXTURE_BASE/healthz" >/dev/null || { echo "feedsift did not start:"; cat "$FIXTURE_WORK/serve.log"; exit 1; }
