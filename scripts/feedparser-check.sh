#!/usr/bin/env bash
# Strict real client: Python feedparser (in a venv under target/) reads the RSS and Atom output
# of a running feedsift (fed by the repo's fixtures) and must see the same titles, links and
# ids as the JSON Feed, with bozo false (no well-formedness or encoding problem). feedparser's
# released versions do not read JSON Feed, so the JSON Feed is checked field by field against
# the JSON Feed 1.1 spec instead.
# Usage: scripts/feedparser-check.sh [path/to/feedsift]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/feedparser-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check feedparser
fi
source scripts/fixture-daemon.sh "${1:-target/debug/feedsift}"
trap fixture_daemon_stop EXIT

"$venv/bin/python" - "$FIXTURE_BASE" <<'PY'
import json, sys, urllib.request
import feedparser

base = sys.argv[1]
failures = []
passed = [0]
def check(cond, what):
    if cond:
        passed[0] += 1
    else:
        print("FAIL " + what)
        failures.append(what)

def rfc3339(value):
    from datetime import datetime
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return "T" in value
    except (TypeError, ValueError):
        return False

def check_json_feed(url, items):
    with urllib.request.urlopen(url) as r:
        ctype = r.headers["content-type"]
        feed = json.load(r)
    label = url.split("/t/")[1]
    check(ctype.startswith("application/feed+json"), f"{label}: served as application/feed+json")
    check(feed.get("version") == "https://jsonfeed.org/version/1.1", f"{label}: version 1.1")
    for key in ["title", "home_page_url", "feed_url"]:
        check(isinstance(feed.get(key), str) and feed[key], f"{label}: top-level {key} is a non-empty string")
    check(feed["feed_url"] == url, f"{label}: feed_url is the feed's own address")
    check(all(k in {"version", "title", "home_page_url", "feed_url", "description", "user_comment", "next_url", "icon", "favicon", "authors", "language", "expired", "hubs", "items"} or k.startswith("_") for k in feed), f"{label}: only spec keys or _extensions at top level")
    allowed = {"id", "url", "external_url", "title", "content_html", "content_text", "summary", "image", "banner_image", "date_published", "date_modified", "authors", "tags", "language", "attachments"}
    for item in items:
        check(isinstance(item.get("id"), str) and item["id"], f"{label}: item id is a non-empty string")
        check(isinstance(item.get("content_html"), str) and isinstance(item.get("content_text"), str), f"{label}: item has content_html and content_text")
        check(item.get("url", "").startswith(("http://", "https://")), f"{label}: item url is absolute")
        check(rfc3339(item.get("date_published")) and rfc3339(item.get("date_modified")), f"{label}: item dates are RFC 3339")
        check(all(isinstance(a.get("name"), str) for a in item.get("authors", [])), f"{label}: authors are objects with a name")
        check(all(isinstance(t, str) for t in item.get("tags", [])), f"{label}: tags are strings")
        check(all(k in allowed or k.startswith("_") for k in item), f"{label}: only spec keys or _extensions in items")
        check(isinstance(item.get("_feedsift", {}).get("sightings"), list) and item["_feedsift"]["sightings"], f"{label}: _feedsift.sightings listed")

for slug, query in [("distributed-systems", ""), ("frontend", ""), ("distributed-systems", "?q=raft&limit=3")]:
    with urllib.request.urlopen(f"{base}/t/{slug}.json{query}") as r:
        truth = json.load(r)["items"]
    want = [(i["title"], i["url"], i["id"]) for i in truth]
    check(len(want) > 0, f"{slug}{query}: JSON Feed has items")
    check_json_feed(f"{base}/t/{slug}.json{query}", truth)
    for fmt in ["rss", "atom"]:
        d = feedparser.parse(f"{base}/t/{slug}.{fmt}{query}")
        label = f"{slug}.{fmt}{query}"
        check(not d.bozo, f"{label}: bozo is false ({d.get('bozo_exception', '')})")
        got = [(e.get("title"), e.get("link"), e.get("id")) for e in d.entries]
        check(got == want, f"{label}: same titles, links and ids as the JSON Feed")
        check(d.feed.get("title") not in (None, ""), f"{label}: feed title present")
        check(all(e.get("published_parsed") for e in d.entries), f"{label}: every entry has a date")
        check(all("Sources:" in (e.get("summary", "") + "".join(c.value for c in e.get("content", []))) for e in d.entries), f"{label}: every entry carries its sources")
if failures:
    sys.exit(f"feedparser check: {len(failures)} failed")
print(f"feedparser check: all {passed[0]} checks passed")
PY
