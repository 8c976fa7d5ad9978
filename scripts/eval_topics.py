#!/usr/bin/env python3
"""Measures feedsift's topic curation against the labelled set in shared/eval/topics.

Serves every labelled item from a local HTTP server on 127.0.0.1, in the wire format of the
site it came from (Hacker News Algolia search, Lobsters hottest.json, Reddit listings, Dev.to
articles, RSS 2.0 for plain feeds), with an article page per link post; writes a temporary
feeds.toml whose topics are those of the evaluated config (every rule key copied as is, only
sources, window, limit and score thresholds overridden); runs the real binary
(`feedsift fetch --once`, then `feedsift explain SLUG --all --json`); and scores each topic's
admissions against the labels (precision, recall, F1, misses, false admissions).

Python 3.11 standard library only. Run it through scripts/eval-topics.sh, which builds the
binary and owns the temporary directory; see `--help`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import html
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import tomllib
import urllib.parse
from email.utils import format_datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_ITEMS = REPO.parent / "shared" / "eval" / "topics" / "items.jsonl"
LABELS = ("distributed-systems", "rust", "performance")
HALVES = ("tune", "check")
# Label -> slugs tried in order when no --map is given (the shipped slug comes first).
SLUG_ALIASES = {
    "distributed-systems": ["distributed-systems", "distributed", "distsys"],
    "rust": ["rust", "rust-lang"],
    "performance": ["performance", "systems-performance", "perf"],
}
# Items per listing page, as the real endpoints serve them (the adapters cap nothing).
HN_PAGE = 100
LOBSTERS_PAGE = 25
DEVTO_PAGE = 100
# Every item passes any score gate: the labels judge topic, not popularity.
SCORES = {
    "hackernews": (500, 120),
    "lobsters": (80, 30),
    "reddit": (2000, 300),
    "devto": (300, 40),
}
# Publication dates are spread over this span before the run, newest first.
DATE_SPAN = dt.timedelta(hours=72)


class HarnessError(Exception):
    """The harness itself failed (server, binary, mapping): exit status 2."""


# --- items and how each is served ----------------------------------------------------------


def load_items(path: Path) -> list[dict]:
    items = []
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if line.strip():
                try:
                    items.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise HarnessError(f"{path}:{line_no}: {e}") from e
    ids = [i["id"] for i in items]
    if len(set(ids)) != len(ids):
        raise HarnessError(f"{path}: duplicate ids")
    return items


def slugify(text: str, max_len: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_len].strip("-") or "x"


def original_host(item: dict) -> str:
    """The host of the item's own link, kept visible in the served article URL."""
    url = item.get("url") or ""
    host = urllib.parse.urlsplit(url).hostname
    return host or "relative-link"


def discussion_kind(item: dict) -> bool:
    """True when the item's link is its own discussion page (a text post in disguise)."""
    url = item.get("url")
    if not url:
        return True
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    site = item["site"]
    if site == "hackernews":
        return host == "news.ycombinator.com"
    if site == "lobsters":
        return host == "lobste.rs" and parts.path.startswith("/s/")
    if site == "reddit":
        return (host == "reddit.com" or host.endswith(".reddit.com")) and "/comments/" in parts.path
    return False


def paragraphs_of(text: str, words_per_paragraph: int = 40) -> list[str]:
    """Splits collapsed text into paragraphs of whole sentences (~40 words each)."""
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    out, current, count = [], [], 0
    for s in sentences:
        if not s:
            continue
        current.append(s)
        count += len(s.split())
        if count >= words_per_paragraph:
            out.append(" ".join(current))
            current, count = [], 0
    if current:
        out.append(" ".join(current))
    return out


def xml_safe(text: str) -> str:
    """Drops characters XML 1.0 forbids (the items are real captures)."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text)


class Catalog:
    """Every item with the URLs, dates and ids it is served with, and the listings."""

    def __init__(self, items: list[dict], base: str, now: dt.datetime):
        self.items = items
        self.base = base
        step = DATE_SPAN / max(len(items), 1)
        used_hn: set[str] = set()
        self.expected: dict[str, int] = {}  # normalized story URL -> item index
        for n, item in enumerate(items):
            item["_n"] = n
            item["_published"] = now - dt.timedelta(minutes=30) - step * n
            item["_text_post"] = discussion_kind(item)
            host = original_host(item)
            item["_article"] = f"{base}/article/{n}/{host}"
            site = item["site"]
            if site == "hackernews":
                tail = item["id"].rsplit("-", 1)[-1]
                oid = tail if tail.isdigit() and tail not in used_hn else str(90_000_000 + n)
                used_hn.add(oid)
                item["_oid"] = oid
                if item["_text_post"]:
                    item["_story_url"] = f"https://news.ycombinator.com/item?id={oid}"
            elif site == "lobsters":
                short = item["id"].split("-", 1)[1] if item["id"].startswith("lobsters-") else f"e{n}"
                item["_oid"] = short
                item["_comments"] = f"https://lobste.rs/s/{short}/{slugify(item['title'], 30).replace('-', '_')}"
                if item["_text_post"]:
                    item["_story_url"] = item["_comments"]
            elif site == "reddit":
                rid = item["id"].split("-", 1)[1] if item["id"].startswith("reddit-") else f"e{n}"
                item["_oid"] = rid
                sub = self.subreddit(item)
                item["_sub"] = sub
                if item["_text_post"] and item.get("url"):
                    path = urllib.parse.urlsplit(item["url"]).path
                else:
                    path = f"/r/{sub}/comments/{rid}/{slugify(item['title'], 30).replace('-', '_')}/"
                item["_permalink"] = path
                if item["_text_post"]:
                    item["_story_url"] = "https://www.reddit.com" + path
            elif site == "devto":
                tail = item["id"].rsplit("-", 1)[-1]
                item["_oid"] = int(tail) if tail.isdigit() else 80_000_000 + n
            elif site != "feed":
                raise HarnessError(f"item {item['id']}: unknown site {site!r}")
            if not item.get("_story_url"):
                item["_story_url"] = item["_article"]
            key = normalize_url(item["_story_url"])
            if key in self.expected:
                raise HarnessError(f"items {items[self.expected[key]]['id']} and {item['id']} share {key}")
            self.expected[key] = n
        self.titles = {}
        for item in items:
            self.titles.setdefault(normalize_title(item["title"]), []).append(item["_n"])
        self.routes: dict[str, tuple[str, bytes]] = {}
        self.sources: list[dict] = []
        self.article_hits = 0
        self.listing_hits = 0
        self.lock = threading.Lock()
        self._build_listings()

    @staticmethod
    def subreddit(item: dict) -> str:
        for tag in item.get("tags") or []:
            if re.fullmatch(r"(r/)?[A-Za-z0-9_]+", tag):
                return tag.removeprefix("r/")
        m = re.search(r"/r/([A-Za-z0-9_]+)/", item.get("url") or "")
        return m.group(1) if m else "programming"

    def by_site(self, site: str) -> list[dict]:
        return [i for i in self.items if i["site"] == site]

    def add(self, path: str, ctype: str, body: bytes, source: dict | None = None):
        self.routes[path] = (ctype, body)
        if source is not None:
            self.sources.append(source)

    def _build_listings(self):
        js = "application/json; charset=utf-8"
        hn = self.by_site("hackernews")
        for p, start in enumerate(range(0, len(hn), HN_PAGE)):
            path = f"/hn/api/v1/search?tags=front_page&hitsPerPage={HN_PAGE}&page={p}"
            page = hn[start : start + HN_PAGE]
            doc = {
                "hits": [self.hn_hit(i) for i in page],
                "nbHits": len(hn),
                "page": p,
                "nbPages": (len(hn) + HN_PAGE - 1) // HN_PAGE,
                "hitsPerPage": HN_PAGE,
                "query": "",
                "params": f"tags=front_page&hitsPerPage={HN_PAGE}&page={p}",
            }
            self.add(path, js, dumps(doc), {"id": f"hn-p{p + 1}", "kind": "hackernews", "url": self.base + path})
        lob = self.by_site("lobsters")
        for p, start in enumerate(range(0, len(lob), LOBSTERS_PAGE)):
            path = f"/lobsters/hottest.json?page={p + 1}"
            doc = [self.lobsters_story(i) for i in lob[start : start + LOBSTERS_PAGE]]
            self.add(path, js, dumps(doc), {"id": f"lobsters-p{p + 1}", "kind": "lobsters", "url": self.base + path})
        subs: dict[str, list[dict]] = {}
        for i in self.by_site("reddit"):
            subs.setdefault(i["_sub"], []).append(i)
        for sub, posts in sorted(subs.items()):
            path = f"/reddit/r/{sub}/top.json?limit=100&raw_json=1&t=week"
            doc = {
                "kind": "Listing",
                "data": {
                    "after": None,
                    "before": None,
                    "dist": len(posts),
                    "modhash": "",
                    "children": [{"kind": "t3", "data": self.reddit_post(i)} for i in posts],
                },
            }
            src = {"id": f"reddit-{slugify(sub, 30)}", "kind": "reddit", "subreddit": sub, "url": self.base + path}
            self.add(path, js, dumps(doc), src)
        dev = self.by_site("devto")
        for p, start in enumerate(range(0, len(dev), DEVTO_PAGE)):
            path = f"/devto/api/articles?top=7&per_page={DEVTO_PAGE}&page={p + 1}"
            doc = [self.devto_article(i) for i in dev[start : start + DEVTO_PAGE]]
            self.add(path, js, dumps(doc), {"id": f"devto-p{p + 1}", "kind": "devto", "url": self.base + path})
        feeds: dict[str, list[dict]] = {}
        for i in self.by_site("feed"):
            feeds.setdefault(i.get("source_file") or "feed", []).append(i)
        for k, (name, entries) in enumerate(sorted(feeds.items())):
            slug = slugify(re.sub(r"\.(xml|rss|atom|json|rdf)$", "", name.split("/", 1)[-1]), 36)
            path = f"/feeds/{k:03d}-{slug}.xml"
            sid = f"feed-{k:03d}-{slug}"[:60].strip("-")
            self.add(
                path,
                "application/rss+xml; charset=utf-8",
                self.rss(name, entries, self.base + path).encode("utf-8"),
                {"id": sid, "kind": "feed", "url": self.base + path, "name": name},
            )
        for item in self.items:
            if not item["_text_post"] or item["site"] == "feed":
                self.add(urllib.parse.urlsplit(item["_article"]).path, "text/html; charset=utf-8", self.article(item))

    # Wire shapes, one per site.

    def hn_hit(self, i: dict) -> dict:
        points, comments = SCORES["hackernews"]
        t = i["_published"]
        author = f"user{i['_n']}"
        text_post = i["_text_post"]
        return {
            "created_at": t.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "created_at_i": int(t.timestamp()),
            "title": i["title"],
            "url": None if text_post else i["_article"],
            "author": author,
            "points": points,
            "story_text": html_paragraphs(i["text"]) if text_post and i["text"] else None,
            "num_comments": comments,
            "story_id": None,
            "story_title": None,
            "story_url": None,
            "parent_id": None,
            "updated_at": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "objectID": i["_oid"],
            "_tags": ["story", f"author_{author}", f"story_{i['_oid']}", "front_page"],
        }

    def lobsters_story(self, i: dict) -> dict:
        score, comments = SCORES["lobsters"]
        desc = html_paragraphs(i["text"]) if i["text"] else ""
        return {
            "short_id": i["_oid"],
            "short_id_url": f"https://lobste.rs/s/{i['_oid']}",
            "created_at": i["_published"].astimezone(dt.timezone(dt.timedelta(hours=-6))).isoformat(timespec="milliseconds"),
            "title": i["title"],
            "url": "" if i["_text_post"] else i["_article"],
            "score": score,
            "flags": 0,
            "comment_count": comments,
            "description": desc,
            "description_plain": i["text"],
            "comments_url": i["_comments"],
            "submitter_user": f"user{i['_n']}",
            "user_is_author": False,
            "tags": list(i.get("tags") or []),
        }

    def reddit_post(self, i: dict) -> dict:
        score, comments = SCORES["reddit"]
        text_post = i["_text_post"]
        url = "https://www.reddit.com" + i["_permalink"] if text_post else i["_article"]
        return {
            "id": i["_oid"],
            "name": f"t3_{i['_oid']}",
            "title": i["title"],
            "url": url,
            "permalink": i["_permalink"],
            "domain": f"self.{i['_sub']}" if text_post else "127.0.0.1",
            "score": score,
            "ups": score,
            "num_comments": comments,
            "created_utc": float(int(i["_published"].timestamp())),
            "is_self": text_post,
            "selftext": i["text"] if text_post else "",
            "subreddit": i["_sub"],
            "subreddit_name_prefixed": f"r/{i['_sub']}",
            "over_18": False,
            "author": f"user{i['_n']}",
        }

    def devto_article(self, i: dict) -> dict:
        reactions, comments = SCORES["devto"]
        t = i["_published"].strftime("%Y-%m-%dT%H:%M:%SZ")
        tags = list(i.get("tags") or [])
        return {
            "type_of": "article",
            "id": i["_oid"],
            "title": i["title"],
            "description": i["text"],
            "url": i["_article"],
            "canonical_url": i["_article"],
            "comments_count": comments,
            "public_reactions_count": reactions,
            "positive_reactions_count": reactions,
            "published_at": t,
            "published_timestamp": t,
            "tag_list": tags,
            "tags": ", ".join(tags),
            "user": {"name": f"User {i['_n']}", "username": f"user{i['_n']}"},
        }

    def rss(self, name: str, entries: list[dict], self_url: str) -> str:
        e = lambda s: html.escape(xml_safe(s), quote=False)  # noqa: E731
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
            "<channel>",
            f"<title>{e(name)}</title>",
            f"<link>{e(self.base)}/</link>",
            f'<atom:link href="{html.escape(self_url)}" rel="self" type="application/rss+xml"/>',
            f"<description>Labelled items from {e(name)}</description>",
        ]
        for i in entries:
            out.append("<item>")
            out.append(f"<title>{e(i['title'])}</title>")
            out.append(f"<link>{e(i['_article'])}</link>")
            out.append(f'<guid isPermaLink="false">{e(i["id"])}</guid>')
            out.append(f"<pubDate>{format_datetime(i['_published'], usegmt=True)}</pubDate>")
            for tag in i.get("tags") or []:
                out.append(f"<category>{e(tag)}</category>")
            if i["text"]:
                out.append(f"<description>{e(html_paragraphs(i['text']))}</description>")
            out.append("</item>")
        out += ["</channel>", "</rss>", ""]
        return "\n".join(out)

    def article(self, i: dict) -> bytes:
        e = lambda s: html.escape(s, quote=True)  # noqa: E731
        title = i["title"]
        text = i["text"]
        paras = "\n".join(f"      <p>{e(p)}</p>" for p in paragraphs_of(text)) if text else ""
        description = " ".join(text.split()[:30]) if text else ""
        meta = f'\n  <meta name="description" content="{e(description)}">' if description else ""
        page = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{e(title)}</title>{meta}
</head>
<body>
  <header class="site-header"><nav><a href="/">Home</a> <a href="/archive">Archive</a> <a href="/about">About</a></nav></header>
  <main>
    <article>
      <h1>{e(title)}</h1>
      <p class="byline">Originally at {e(original_host(i))}</p>
{paras}
    </article>
  </main>
  <footer class="site-footer"><p>Copyright the author. All rights reserved. Served by the feedsift topic eval.</p></footer>
</body>
</html>
"""
        return page.encode("utf-8")

    # Mapping stories back to items.

    def item_for(self, url: str, title: str) -> int | None:
        m = re.search(r"^https?://127\.0\.0\.1(:\d+)?/article/(\d+)(/|$)", url)
        if m and int(m.group(2)) < len(self.items):
            return int(m.group(2))
        n = self.expected.get(normalize_url(url))
        if n is not None:
            return n
        hits = self.titles.get(normalize_title(title), [])
        return hits[0] if len(hits) == 1 else None


def html_paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs_of(text))


def dumps(doc) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def normalize_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    port = f":{parts.port}" if parts.port else ""
    path = parts.path.rstrip("/")
    query = "&".join(sorted(q for q in parts.query.split("&") if q))
    return f"{host}{port}{path}" + (f"?{query}" if query else "")


def normalize_title(title: str) -> str:
    return " ".join(html.unescape(html.unescape(title)).lower().split())


# --- the local server -----------------------------------------------------------------------


def make_handler(catalog: Catalog):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "feedsift-eval/1"

        def log_message(self, fmt, *args):  # quiet; counts are reported instead
            pass

        def do_HEAD(self):
            self.respond(head=True)

        def do_GET(self):
            self.respond(head=False)

        def respond(self, head: bool):
            route = catalog.routes.get(self.path)
            if route is None:
                # Query order must not matter for listings.
                parts = urllib.parse.urlsplit(self.path)
                for path, r in catalog.routes.items():
                    p = urllib.parse.urlsplit(path)
                    if p.path == parts.path and sorted(p.query.split("&")) == sorted(parts.query.split("&")):
                        route = r
                        break
            if route is None:
                body = b"not found\n"
                self.send_response(404)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)
                return
            ctype, body = route
            with catalog.lock:
                if self.path.startswith("/article/"):
                    catalog.article_hits += 1
                else:
                    catalog.listing_hits += 1
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            if not head:
                self.wfile.write(body)

    return Handler


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


# --- the generated config -------------------------------------------------------------------

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(k: str) -> str:
    return k if BARE_KEY.match(k) else toml_string(k)


def toml_string(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v:
            return "nan"
        if v in (float("inf"), float("-inf")):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise HarnessError(f"cannot write {v!r} as TOML")


def toml_table(path: list[str], table: dict, array: bool = False) -> list[str]:
    """One [table] or [[array entry]] with its plain keys, then its sub-tables."""
    header = ".".join(toml_key(p) for p in path)
    lines = [f"[[{header}]]" if array else f"[{header}]"]
    subtables = []
    for k, v in table.items():
        if isinstance(v, dict):
            subtables.append((k, v, False))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            subtables.append((k, v, True))
        else:
            lines.append(f"{toml_key(k)} = {toml_value(v)}")
    for k, v, is_array in subtables:
        entries = v if is_array else [v]
        for entry in entries:
            lines.append("")
            lines += toml_table(path + [k], entry, is_array)
    return lines


def build_config(
    evaluated: dict,
    sources: list[dict],
    data_dir: Path,
    private_key: bool,
) -> str:
    """The temporary feeds.toml: the evaluated config's topics (every key kept) over the
    local sources, with the window, limit and score thresholds opened up."""
    defaults = dict(evaluated.get("defaults") or {})
    defaults["poll"] = "1h"
    defaults["timeout"] = "20s"
    if private_key:  # one-line switch: the daemon refuses loopback article pages without it
        defaults["allow_private_networks"] = True
    out = [
        "# Generated by scripts/eval_topics.py: local sources, the evaluated config's topics.",
        "",
        *toml_table(["server"], {"listen": "127.0.0.1:1", "data_dir": str(data_dir)}),
        "",
        *toml_table(["defaults"], defaults),
    ]
    for s in sources:
        out += ["", *toml_table(["source"], {**s, "poll": "1h"}, array=True)]
    ids = [s["id"] for s in sources]
    for topic in evaluated.get("topic") or []:
        t = dict(topic)
        t["sources"] = ids
        t["window"] = "3650d"
        t["limit"] = 1000
        t.pop("min_points", None)
        t.pop("min_comments", None)
        out += ["", *toml_table(["topic"], t, array=True)]
    return "\n".join(out) + "\n"


# --- running the binary ---------------------------------------------------------------------


def run(cmd: list[str], log: Path, timeout: float, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.setdefault("RUST_LOG", "warn")
    env.pop("COLUMNS", None)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise HarnessError(f"{' '.join(cmd)}: no answer within {timeout:.0f}s") from e
    with open(log, "a", encoding="utf-8") as f:
        f.write(f"$ {' '.join(cmd)}\n[exit {proc.returncode}]\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}\n")
    if check and proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise HarnessError(f"{' '.join(cmd)} exited {proc.returncode}:\n{tail}")
    return proc


def accepts_private_key(binary: str, work: Path, log: Path) -> bool:
    """Whether this binary knows `[defaults] allow_private_networks` (a probe `check`)."""
    probe = work / "probe.toml"
    probe.write_text(
        "[server]\n"
        f"data_dir = {toml_string(str(work / 'probe-data'))}\n"
        "[defaults]\nallow_private_networks = true\n"
        '[[source]]\nid = "probe"\nkind = "feed"\nurl = "http://127.0.0.1:1/feed.xml"\n'
    )
    return run([binary, "check", "--config", str(probe)], log, 60, check=False).returncode == 0


# --- scoring ----------------------------------------------------------------------------------


def resolve_slugs(config_topics: list[str], mapping: dict[str, str], labels: list[str]) -> dict[str, str]:
    resolved = {}
    for label in labels:
        if label in mapping:
            slug = mapping[label]
            if slug not in config_topics:
                raise HarnessError(f"--map {label}={slug}: no topic {slug!r} in the config (topics: {', '.join(config_topics)})")
            resolved[label] = slug
            continue
        for slug in SLUG_ALIASES.get(label, [label]):
            if slug in config_topics:
                resolved[label] = slug
                break
        else:
            raise HarnessError(
                f"no topic for label {label!r} in the config (topics: {', '.join(config_topics)}); "
                f"pass --map {label}=SLUG"
            )
    return resolved


def half_of(item_id: str) -> str:
    """The item's half of the set, fixed by its id: tune rules on `tune`, confirm on `check`.

    A rule change that helps only the half it was tuned on fits those items, not the topic."""
    return "tune" if int(hashlib.sha1(item_id.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "check"


def score(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--feedsift", required=True, help="the feedsift binary to run")
    ap.add_argument("--workdir", required=True, type=Path, help="an empty temporary directory (config, store, logs)")
    ap.add_argument("--items", type=Path, default=Path(os.environ.get("FEEDSIFT_EVAL_ITEMS", DEFAULT_ITEMS)), help="labelled items (default: %(default)s)")
    ap.add_argument("--config", type=Path, default=REPO / "feeds.toml", help="config whose topics are evaluated (default: the shipped feeds.toml)")
    ap.add_argument("--map", action="append", default=[], metavar="LABEL=SLUG", help="evaluate label LABEL with topic SLUG (repeatable)")
    ap.add_argument("--label", action="append", default=[], help="evaluate only this label (repeatable; default all three)")
    ap.add_argument("--half", choices=HALVES, help="score only this half of the set (fixed by item id): tune rules on 'tune', then confirm on 'check'")
    ap.add_argument("--json", action="store_true", help="print a machine-readable summary instead of the report")
    ap.add_argument("--width", type=int, default=90, help="title width in the lists (default %(default)s)")
    ap.add_argument("--verdicts", type=Path, help="also write every item's verdict per label here (JSON lines: id, label, positive, admitted, the verdict explain gave), to study a rule change")
    args = ap.parse_args(argv)

    started = time.monotonic()
    work: Path = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    log = work / "feedsift.log"
    mapping = {}
    for m in args.map:
        label, sep, slug = m.partition("=")
        if not sep or not label or not slug:
            raise HarnessError(f"--map {m!r}: expected LABEL=SLUG")
        mapping[label.strip()] = slug.strip()
    labels = args.label or list(LABELS)
    for label in labels:
        if label not in LABELS:
            raise HarnessError(f"--label {label!r}: the set labels {', '.join(LABELS)}")

    try:
        evaluated = tomllib.loads(args.config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise HarnessError(f"{args.config}: {e}") from e
    topic_slugs = [t.get("slug") for t in evaluated.get("topic") or []]
    slugs = resolve_slugs(topic_slugs, mapping, labels)

    items = load_items(args.items)
    for item in items:
        for label in labels:
            if not isinstance(item.get("labels", {}).get(label), bool):
                raise HarnessError(f"item {item['id']}: no boolean label {label!r}")

    server = Server(("127.0.0.1", 0), None)  # handler set once the catalog knows its base
    port = server.server_address[1]
    base = f"http://127.0.0.1:{port}"
    catalog = Catalog(items, base, dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    server.RequestHandlerClass = make_handler(catalog)
    thread = threading.Thread(target=server.serve_forever, name="eval-server", daemon=True)
    thread.start()
    try:
        return evaluate(args, work, log, evaluated, catalog, slugs, items, started)
    finally:
        server.shutdown()
        server.server_close()


def evaluate(args, work, log, evaluated, catalog: Catalog, slugs, items, started) -> int:
    binary = args.feedsift
    env_private = os.environ.get("FEEDSIFT_EVAL_PRIVATE", "auto").lower()
    if env_private in ("1", "true", "yes", "on"):
        private = True
    elif env_private in ("0", "false", "no", "off"):
        private = False
    else:
        private = accepts_private_key(binary, work, log)
    if "allow_private_networks" in (evaluated.get("defaults") or {}):
        private = False  # the evaluated config sets it itself; keep its value
    config_path = work / "feeds.toml"
    config_path.write_text(build_config(evaluated, catalog.sources, work / "data", private), encoding="utf-8")
    run([binary, "check", "--config", str(config_path)], log, 60)

    fetch = run([binary, "fetch", "--once", "--config", str(config_path)], log, 600)
    status = json.loads(run([binary, "status", "--config", str(config_path)], log, 60).stdout)
    failing = [line for line in fetch.stdout.splitlines() if " FAILED " in line]
    for src in status.get("sources") or []:
        if src.get("last_error") or src.get("consecutive_failures") or src.get("last_status") not in (200, None):
            failing.append(f"{src.get('id')}: status {src.get('last_status')}: {src.get('last_error')}")
    if failing:
        raise HarnessError("sources failed:\n  " + "\n  ".join(failing))
    if status.get("stories") != len(items):
        raise HarnessError(f"{len(items)} items served but the store holds {status.get('stories')} stories (see {log})")
    skipped = sum(int(m.group(1)) for m in re.finditer(r"(\d+) skipped", fetch.stdout))
    articles = re.search(r"articles\s+(\d+) summarized, (\d+) failed", fetch.stdout)
    summarized, article_failed = (int(articles.group(1)), int(articles.group(2))) if articles else (0, 0)

    results = {}
    verdicts: list[dict] = []
    stored = None
    for label, slug in slugs.items():
        out = run([binary, "explain", slug, "--all", "--json", "--config", str(config_path)], log, 120).stdout
        try:
            explanation = json.loads(out)
        except json.JSONDecodeError as e:
            raise HarnessError(f"explain {slug}: not JSON: {e}") from e
        stories = explanation.get("stories", [])
        seen: dict[int, dict] = {}
        unmapped = []
        for s in stories:
            n = catalog.item_for(s.get("url", ""), s.get("title", ""))
            if n is None:
                unmapped.append(f"{s.get('url')}  {s.get('title')}")
            elif n in seen:
                unmapped.append(f"{s.get('url')} (item {items[n]['id']} twice)")
            else:
                seen[n] = s
        missing = [items[n]["id"] for n in range(len(items)) if n not in seen]
        if unmapped or missing:
            raise HarnessError(
                f"explain {slug}: {len(stories)} stories for {len(items)} items; "
                f"{len(unmapped)} unmapped, {len(missing)} items without a story\n  "
                + "\n  ".join((unmapped + [f"no story: {m}" for m in missing])[:20])
            )
        stored = len(stories)
        tp, fp, fn = [], [], []
        by_half = {h: [0, 0, 0] for h in HALVES}
        inconsistent = []
        for n, s in sorted(seen.items()):
            verdict = s.get("verdict") or {}
            admitted = bool(verdict.get("passes")) and bool(s.get("from_topic_sources", True))
            if admitted != (s.get("rank") is not None):
                inconsistent.append(items[n]["id"])
            positive = items[n]["labels"][label]
            verdicts.append({"id": items[n]["id"], "label": label, "positive": positive,
                             "admitted": admitted, "title": items[n]["title"], "verdict": verdict})
            entry = {
                "id": items[n]["id"],
                "title": items[n]["title"],
                "relevance": verdict.get("relevance"),
                "matched": [f"{m.get('term')}:{m.get('field')}" for m in verdict.get("matched", [])],
                "excluded_by": verdict.get("excluded_by", []),
            }
            half = half_of(items[n]["id"])
            counts = by_half[half]
            if admitted or positive:
                counts[0 if admitted and positive else 1 if admitted else 2] += 1
            if args.half and half != args.half:
                continue
            if admitted and positive:
                tp.append(entry)
            elif admitted:
                fp.append(entry)
            elif positive:
                fn.append(entry)
        if inconsistent:
            raise HarnessError(f"explain {slug}: verdict and rank disagree for {', '.join(inconsistent[:10])}")
        p, r, f = score(len(tp), len(fp), len(fn))
        results[label] = {
            "slug": slug,
            "min_relevance": explanation.get("min_relevance"),
            "positives": len(tp) + len(fn),
            "admitted": len(tp) + len(fp),
            "tp": len(tp),
            "fp": len(fp),
            "fn": len(fn),
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f, 4),
            "halves": {h: dict(zip(("precision", "recall", "f1"), (round(x, 4) for x in score(*c))), tp=c[0], fp=c[1], fn=c[2])
                       for h, c in by_half.items()},
            "false_negatives": fn,
            "false_positives": fp,
        }

    if args.verdicts:
        args.verdicts.write_text("".join(json.dumps(v, ensure_ascii=False) + "\n" for v in verdicts), encoding="utf-8")
    elapsed = time.monotonic() - started
    run_info = {
        "binary": binary,
        "config": str(args.config),
        "items": len(items),
        "half": args.half or "both",
        "stories": stored,
        "sources": len(catalog.sources),
        "listing_requests": catalog.listing_hits,
        "article_pages_served": catalog.article_hits,
        "articles_summarized": summarized,
        "articles_failed": article_failed,
        "entries_skipped": skipped,
        "allow_private_networks": private,
        "seconds": round(elapsed, 1),
    }
    if args.json:
        print(json.dumps({"run": run_info, "topics": results}, indent=2, ensure_ascii=False))
        return 0

    w = args.width
    print(
        f"feedsift topic eval: {len(items)} items -> {stored} stories from {len(catalog.sources)} local sources; "
        f"{catalog.article_hits} article pages fetched ({summarized} summarized, {article_failed} failed); "
        f"config {args.config}" + (f"; scoring the {args.half} half only" if args.half else "")
    )
    for label, res in results.items():
        print()
        print(
            f"== {label} (topic {res['slug']}, min_relevance {res['min_relevance']}): "
            f"P {res['precision']:.3f}  R {res['recall']:.3f}  F1 {res['f1']:.3f}  "
            f"TP {res['tp']}  FP {res['fp']}  FN {res['fn']}  ({res['positives']} positives, {res['admitted']} admitted)"
        )
        for name, rows in (("misses (false negatives)", res["false_negatives"]), ("false admissions (false positives)", res["false_positives"])):
            print(f"-- {name}: {len(rows)}")
            for e in rows:
                why = f"rel {e['relevance']:g}" + (f": {', '.join(e['matched'])}" if e["matched"] else "")
                if e["excluded_by"]:
                    why += f"; excluded by {', '.join(e['excluded_by'])}"
                print(f"  {e['id']:<40}  {short(e['title'], w)}  [{why}]")
    print()
    print(f"{'label':<22} {'topic':<22} {'P':>6} {'R':>6} {'F1':>6} {'TP':>4} {'FP':>4} {'FN':>4}   {'F1 tune':>7} {'F1 check':>8}")
    for label, res in results.items():
        halves = res["halves"]
        print(
            f"{label:<22} {res['slug']:<22} {res['precision']:>6.3f} {res['recall']:>6.3f} {res['f1']:>6.3f} "
            f"{res['tp']:>4} {res['fp']:>4} {res['fn']:>4}   {halves['tune']['f1']:>7.3f} {halves['check']['f1']:>8.3f}"
        )
    print(f"({elapsed:.1f}s)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except HarnessError as e:
        print(f"eval-topics: error: {e}", file=sys.stderr)
        sys.exit(2)
