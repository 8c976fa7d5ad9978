#!/usr/bin/env bash
# Browser check: a real headless Chromium loads the topic page and the index from a running
# feedsift (fed by the repo's fixtures), saves screenshots (desktop and phone width), and the
# rendered DOM is checked for items, titles, the sources line and the feed links.
# Usage: scripts/browser-check.sh [path/to/feedsift]   (default: target/debug/feedsift)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/feedsift}
[ -x "$bin" ] || cargo build --quiet
out=${BROWSER_CHECK_OUT:-target/browser-check}
mkdir -p "$out"

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
up_port=$(free_port)
port=$(free_port)
python3 -m http.server "$up_port" --bind 127.0.0.1 --directory fixtures >/dev/null 2>&1 &
pids+=($!)

cat > "$work/feeds.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
base_url = "http://127.0.0.1:$port"
data_dir = "data"

[[source]]
id = "hn"
kind = "hackernews"
url = "http://127.0.0.1:$up_port/sites/hn_front_page.json"

[[source]]
id = "reddit-programming"
kind = "reddit"
subreddit = "programming"
url = "http://127.0.0.1:$up_port/sites/reddit_programming_top.json"

[[source]]
id = "lobsters"
kind = "lobsters"
url = "http://127.0.0.1:$up_port/sites/lobsters_hottest.json"

[[source]]
id = "devto"
kind = "devto"
url = "http://127.0.0.1:$up_port/sites/devto_top.json"

[[topic]]
slug = "distributed-systems"
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
title = "Frontend"
window = "3650d"
[topic.keywords]
"javascript" = 1
TOML

for _ in $(seq 50); do curl -sf "http://127.0.0.1:$up_port/sites/hn_front_page.json" >/dev/null && break; sleep 0.1; done
"$bin" fetch --once --config "$work/feeds.toml"
"$bin" serve --config "$work/feeds.toml" 2>"$work/serve.log" &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

chrome() {
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" "$@" 2>/dev/null
}
page="http://127.0.0.1:$port/t/distributed-systems"
chrome --window-size=1280,1600 --screenshot="$out/topic-desktop.png" "$page"
chrome --window-size=412,915 --screenshot="$out/topic-phone.png" "$page"
chrome --window-size=1280,900 --screenshot="$out/index.png" "http://127.0.0.1:$port/"
chrome --dump-dom "$page" >"$out/topic.dom.html"
chrome --dump-dom "http://127.0.0.1:$port/" >"$out/index.dom.html"

python3 - "$out" "$port" <<'PY'
import sys
from html.parser import HTMLParser

out, port = sys.argv[1], sys.argv[2]

class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.items, self.links, self.alternates, self.h1 = [], [], [], [], ""
        self.text = {"li": None}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.stack.append(tag)
        if tag == "li" and "ol" in self.stack:
            self.items.append({"text": "", "title": "", "href": None})
        if tag == "a" and self.items and "li" in self.stack and self.items[-1]["href"] is None:
            self.items[-1]["href"] = a.get("href")
        if tag == "a":
            self.links.append(a.get("href", ""))
        if tag == "link" and a.get("rel") == "alternate":
            self.alternates.append((a.get("type"), a.get("href")))
    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop() == tag:
                break
    def handle_data(self, data):
        if "h1" in self.stack:
            self.h1 += data
        if self.items and "li" in self.stack:
            self.items[-1]["text"] += data
            if "strong" in self.stack:
                self.items[-1]["title"] += data

def parse(path):
    d = Dom()
    d.feed(open(path, encoding="utf-8").read())
    return d

failures = []
def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)

topic = parse(f"{out}/topic.dom.html")
check(topic.h1.strip() == "Distributed Systems", "page title is the topic title")
check(len(topic.items) == 13, f"13 numbered items rendered (got {len(topic.items)})")
titles = [i["title"] for i in topic.items]
check(titles[:2] == ["Fault tolerance lessons from a 14-hour outage", "Raft in Practice: Lessons from Five Years of Consensus"], "items ordered by points")
check(all("Sources:" in i["text"] for i in topic.items), "every item has a sources line")
raft = topic.items[1]
check(raft["href"] == "https://blog.example.org/posts/raft-in-practice", "title links to the original article")
check("/r/programming 426 pts (88 comments) · Hacker News 225 pts (41 comments)" in " ".join(raft["text"].split()), "sources line shows each site with points")
check(not any("airdrop" in t.lower() for t in titles), "excluded story absent")
base = f"http://127.0.0.1:{port}/t/distributed-systems"
for kind, ext in [("application/rss+xml", "rss"), ("application/atom+xml", "atom"), ("application/feed+json", "json")]:
    check((kind, f"{base}.{ext}") in topic.alternates, f"autodiscovery link for {ext}")
index = parse(f"{out}/index.dom.html")
for href in [base, f"{base}.rss", f"http://127.0.0.1:{port}/t/frontend", f"http://127.0.0.1:{port}/t/frontend.json"]:
    check(href in index.links, f"index links {href}")
if failures:
    sys.exit(f"browser check: {len(failures)} failed")
print(f"browser check: all passed; screenshots in {out}/")
PY
