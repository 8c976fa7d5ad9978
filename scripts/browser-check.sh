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

source scripts/fixture-daemon.sh "$bin"
trap fixture_daemon_stop EXIT
work=$FIXTURE_WORK
base=$FIXTURE_BASE

chrome() {
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" "$@" 2>/dev/null
}
page="$base/t/distributed-systems"
chrome --window-size=1280,1600 --screenshot="$out/topic-desktop.png" "$page"
chrome --window-size=412,915 --screenshot="$out/topic-phone.png" "$page"
chrome --window-size=1280,900 --screenshot="$out/index.png" "$base/"
chrome --dump-dom "$page" >"$out/topic.dom.html"
chrome --dump-dom "$base/" >"$out/index.dom.html"

python3 - "$out" "$base" <<'PY'
import json, sys, urllib.request
from html.parser import HTMLParser

out, root = sys.argv[1], sys.argv[2]

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
with urllib.request.urlopen(f"{root}/t/distributed-systems.json") as r:
    truth = json.load(r)["items"]
check(topic.h1.strip() == "Distributed Systems", "page title is the topic title")
check(len(topic.items) == len(truth) > 5, f"one numbered item per story ({len(topic.items)} rendered, {len(truth)} in the feed)")
check([i["title"] for i in topic.items] == [t["title"] for t in truth], "same titles in the same order as the feed")
check([i["href"] for i in topic.items] == [t["url"] for t in truth], "titles link to the original articles")
check(all("Sources:" in i["text"] for i in topic.items), "every item has a sources line")
raft = next(i for i in topic.items if i["title"].startswith("Raft in Practice"))
check("/r/programming 426 pts (88 comments) · Hacker News 225 pts (41 comments)" in " ".join(raft["text"].split()), "sources line shows each site with points")
check(not any("airdrop" in i["title"].lower() for i in topic.items), "excluded story absent")
base = f"{root}/t/distributed-systems"
for kind, ext in [("application/rss+xml", "rss"), ("application/atom+xml", "atom"), ("application/feed+json", "json")]:
    check((kind, f"{base}.{ext}") in topic.alternates, f"autodiscovery link for {ext}")
index = parse(f"{out}/index.dom.html")
for href in [base, f"{base}.rss", f"{root}/t/frontend", f"{root}/t/frontend.json"]:
    check(href in index.links, f"index links {href}")
if failures:
    sys.exit(f"browser check: {len(failures)} failed")
print(f"browser check: all passed; screenshots in {out}/")
PY
