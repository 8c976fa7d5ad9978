#!/usr/bin/env bash
# Output hygiene as a real client sees it: feedsift ingests a hostile Reddit listing (markup in
# the title and selftext, bidi overrides and control characters) and a hostile RSS feed (a
# full-content topic whose bodies carry `da&#9;ta:`, `java&#10;script:`, SVG data images),
# then Python feedparser (in the venv scripts/feedparser-check.sh uses) reads the RSS and Atom
# output, and the JSON Feed is read as JSON. Checks: the selftext reaches the reader as text
# (`&lt;script&gt;` in the HTML it is handed, never a script element); titles are plain text
# that feedparser does not sniff as HTML; no link or image with a non-http(s)/mailto scheme
# except raster data: images; no control or bidi-override character in any field.
# Usage: scripts/hygiene-check.sh [path/to/feedsift]
#   HYGIENE_SAVE=DIR keeps the served raft.rss/.atom/.json (and BASE, the base URL) in DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/feedsift}
[ -x "$bin" ] || cargo build --quiet
venv=target/feedparser-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check feedparser
fi
work=$(mktemp -d)
pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap stop EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
up_port=$(free_port)
port=$(free_port)
base="http://127.0.0.1:$port"
mkdir -p "$work/up"

python3 - "$work/up" "http://127.0.0.1:$up_port" <<'PY'
import json, sys, time
out, up = sys.argv[1], sys.argv[2]
now = int(time.time()) - 3600
post = {
    "id": "h0st1le", "name": "t3_h0st1le", "subreddit": "programming", "over_18": False,
    "title": "Raft </title><script>alert(62)</script>\u202egnp.exe\u202c \u0085done",
    # Reddit entity-escapes selftext (no raw_json=1).
    "selftext": "raft &lt;script&gt;alert(63)&lt;/script&gt; \u2066isolated\u2069\u0007 end",
    "is_self": True, "url": "https://www.reddit.com/r/programming/comments/h0st1le/raft/",
    "permalink": "/r/programming/comments/h0st1le/raft/",
    "score": 500, "num_comments": 12, "created_utc": now,
    "author": "mal\u202elory",
}
json.dump({"kind": "Listing", "data": {"children": [{"kind": "t3", "data": post}]}},
          open(f"{out}/reddit.json", "w"))
body = ("<p>Raft body \u202eflipped\u202c with &#x85;a C1 control.</p>"
        "<a href='da&#9;ta:text/html,&lt;script&gt;alert(1)&lt;/script&gt;'>tab data</a> "
        "<a href='java&#10;script:alert(2)'>newline js</a> "
        "<a href=' JaVaScRiPt:alert(3)'>mixed case js</a> "
        "<a href='&#x01;data:text/html,x'>control data</a> "
        "<img src='data:image/svg+xml,&lt;svg onload=alert(4)&gt;'> "
        "<img src='data:image/png;base64,iVBORw0KGgo='> "
        "<a href='https://example.org/ok'>fine</a>")
rss = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Hostile</title><link>{up}/</link><description>d</description>
<item><title>Raft &lt;b&gt;bold&lt;/b&gt; claims &#x202E;reversed</title>
<link>https://hostile.example.org/raft</link><guid>https://hostile.example.org/raft</guid>
<pubDate>{time.strftime('%a, %d %b %Y %H:%M:%S GMT', time.gmtime(now - 3600))}</pubDate>
<category>&lt;/b&gt;&lt;i&gt;raft</category><dc:creator>mal&#x202E;lory&#x2069;</dc:creator>
<description><![CDATA[{body}]]></description></item>
</channel></rss>"""
open(f"{out}/hostile.rss", "w").write(rss)
PY

cat > "$work/feeds.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
base_url = "$base"
data_dir = "data"

[[source]]
id = "reddit-programming"
kind = "reddit"
subreddit = "programming"
url = "http://127.0.0.1:$up_port/reddit.json"

[[source]]
id = "hostile"
kind = "feed"
name = "Hostile Blog"
url = "http://127.0.0.1:$up_port/hostile.rss"

[[topic]]
slug = "raft"
summaries = "feed"
title = "Raft"
content = "full"
window = "3650d"
[topic.keywords]
"raft" = 3
TOML

python3 -m http.server "$up_port" --bind 127.0.0.1 --directory "$work/up" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$up_port/reddit.json" >/dev/null && break; sleep 0.1; done
"$bin" fetch --once --config "$work/feeds.toml" >"$work/fetch.log" 2>&1
"$bin" serve --config "$work/feeds.toml" 2>"$work/serve.log" &
pids+=($!)
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$base/healthz" >/dev/null || { echo "feedsift did not start:"; cat "$work/serve.log"; exit 1; }

if [ -n "${HYGIENE_SAVE:-}" ]; then
  mkdir -p "$HYGIENE_SAVE"
  echo "$base" > "$HYGIENE_SAVE/BASE"
  for ext in rss atom json; do curl -sf "$base/t/raft.$ext" -o "$HYGIENE_SAVE/raft.$ext"; done
fi

"$venv/bin/python" - "$base" <<'PY'
import json, re, sys, urllib.request
import feedparser

base = sys.argv[1]
failures, passed = [], [0]
def check(cond, what):
    if cond:
        passed[0] += 1
    else:
        print("FAIL " + what)
        failures.append(what)

FORBIDDEN = re.compile("[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]")
def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from strings(v)

def urls_in(html):
    return re.findall(r"""(?:href|src)\s*=\s*["']?([^"'\s>]*)""", html, re.I)

def safe_url(u):
    u = u.strip().lower()
    return u.startswith(("http://", "https://", "mailto:")) or re.match(r"data:image/(png|gif|jpeg|webp)[;,]", u)

TITLE = "Raft \u2039/title\u203a\u2039script\u203aalert(62)\u2039/script\u203agnp.exe done"
SELFTEXT = "raft &lt;script&gt;alert(63)&lt;/script&gt; isolated end"
REDDIT = "https://www.reddit.com/r/programming/comments/h0st1le/raft/"

with urllib.request.urlopen(f"{base}/t/raft.json") as r:
    jf = json.load(r)
items = {i["title"]: i for i in jf["items"]}
check(TITLE in items, f"json: reddit title neutralized ({list(items)})")
check(all(not FORBIDDEN.search(s) for s in strings(jf)), "json: no control/bidi character in any field")
for item in jf["items"]:
    check("<script" not in item["content_html"].lower(), f"json: no script element in content_html of {item['title']!r}")
    check(all(safe_url(u) for u in urls_in(item["content_html"])), f"json: only safe URLs in {item['title']!r}: {urls_in(item['content_html'])}")
reddit = [i for i in jf["items"] if i["url"] == REDDIT]
check(len(reddit) == 1, "json: the reddit post is listed")
for i in reddit:
    check(SELFTEXT in i["content_html"], f"json: selftext escaped in content_html ({i['content_html']!r})")
blog = [i for i in jf["items"] if i["title"].startswith("Raft \u2039b\u203a")]
check(len(blog) == 1, f"json: blog title neutralized ({list(items)})")
if blog:
    check(blog[0].get("tags") == ["\u2039/b\u203a\u2039i\u203araft"], f"json: tag neutralized ({blog[0].get('tags')})")
    check("data:image/png" in blog[0]["content_html"], "json: raster data image kept")
    check(blog[0].get("authors") == [{"name": "mallory"}], f"json: author cleaned ({blog[0].get('authors')})")

import xml.etree.ElementTree as ET
BODIES = {"rss": ".//{http://purl.org/rss/1.0/modules/content/}encoded", "atom": ".//{http://www.w3.org/2005/Atom}content"}
for fmt in ["rss", "atom"]:
    # The bodies as written (feedparser sanitizes HTML on its own, so read them raw too).
    with urllib.request.urlopen(f"{base}/t/raft.{fmt}") as r:
        root = ET.fromstring(r.read())
    for body in root.iterfind(BODIES[fmt]):
        check(all(safe_url(u) for u in urls_in(body.text or "")), f"{fmt} raw: only safe URLs: {urls_in(body.text or '')}")
    d = feedparser.parse(f"{base}/t/raft.{fmt}")
    check(not d.bozo, f"{fmt}: bozo is false ({d.get('bozo_exception', '')})")
    check(all(not FORBIDDEN.search(s) for s in strings(d.entries)), f"{fmt}: no control/bidi character in any field")
    by_title = {e.title: e for e in d.entries}
    check(TITLE in by_title, f"{fmt}: reddit title neutralized ({list(by_title)})")
    for e in d.entries:
        # feedparser sniffs RSS titles for HTML; a plain-text title stays text/plain.
        check(e.title_detail.type == "text/plain", f"{fmt}: title of {e.title!r} read as {e.title_detail.type}")
        check(e.title == items.get(e.title, {}).get("title"), f"{fmt}: same title as the JSON Feed: {e.title!r}")
        html = e.summary + "".join(c.value for c in e.get("content", []))
        check("<script" not in html.lower(), f"{fmt}: no script element in {e.title!r}")
        check(all(safe_url(u) for u in urls_in(html)), f"{fmt}: only safe URLs in {e.title!r}: {urls_in(html)}")
    reddit = [e for e in d.entries if e.link == REDDIT]
    check(len(reddit) == 1, f"{fmt}: the reddit post is listed")
    for e in reddit:
        check(e.summary_detail.type == "text/html" and SELFTEXT in e.summary, f"{fmt}: selftext read as escaped text ({e.summary_detail.type}: {e.summary!r})")
    blog = [e for e in d.entries if e.title.startswith("Raft \u2039b\u203a")]
    check(len(blog) == 1 and [t.term for t in blog[0].tags] == ["\u2039/b\u203a\u2039i\u203araft"], f"{fmt}: blog title and tag neutralized")
    check(len(blog) == 1 and blog[0].get("author") == "mallory", f"{fmt}: author cleaned ({[e.get('author') for e in blog]})")

if failures:
    sys.exit(f"hygiene check: {len(failures)} failed")
print(f"hygiene check: all {passed[0]} checks passed")
PY
