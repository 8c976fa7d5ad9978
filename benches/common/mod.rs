//! Synthetic, deterministic inputs for the benchmarks and the bench data generators
//! (`examples/gen_store.rs`, `examples/gen_corpus.rs`): site listings and feeds shaped like
//! `fixtures/` and sized like real captures, sightings and stories with realistic text, and a
//! config with one source of every kind. No I/O.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use feedsift::config::Config;
use feedsift::model::{Sighting, Story};
use feedsift::normalize::Candidate;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::path::Path;

/// The fixed "now" of every benchmark, so figures do not drift with the calendar.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
}

/// SplitMix64: small, fast and deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Heavy-tailed scores like real sites: most items have a few points, a few have
    /// thousands.
    pub fn points(&mut self, scale: f64) -> i64 {
        let u = self.unit().max(1e-6);
        (scale * (u.powf(-0.8) - 1.0)).min(20_000.0) as i64
    }
}

const TOPIC_WORDS: &[&str] = &[
    "Raft",
    "Paxos",
    "consensus",
    "distributed",
    "CAP theorem",
    "replication",
    "fault tolerance",
    "leader election",
    "quorum",
    "vector clocks",
];

#[rustfmt::skip]
const TECH: &[&str] = &[
    "Rust", "Go", "Python", "TypeScript", "Postgres", "SQLite", "Kubernetes", "Linux", "WebAssembly",
    "compiler", "database", "cache", "scheduler", "allocator", "garbage collector", "kernel",
    "query planner", "type system", "parser", "HTTP/3", "TLS", "async runtime", "CPU", "GPU",
    "memory model", "B-tree", "LSM tree", "JIT", "linker", "debugger", "frontend", "API",
];

#[rustfmt::skip]
const VERBS: &[&str] = &[
    "Building", "Debugging", "Rewriting", "Profiling", "Scaling", "Testing", "Understanding",
    "Shipping", "Designing", "Benchmarking", "Porting", "Securing",
];

#[rustfmt::skip]
const WORDS: &[&str] = &[
    "the", "a", "we", "our", "team", "found", "that", "when", "with", "without", "every",
    "request", "latency", "throughput", "production", "system", "service", "cluster", "node",
    "write", "read", "path", "budget", "error", "failure", "incident", "lesson", "design",
    "trade-off", "memory", "disk", "network", "packet", "thread", "lock", "queue", "batch",
    "index", "page", "version", "release", "feature", "bug", "fix", "test", "benchmark",
    "result", "surprising", "simple", "fast", "slow", "careful", "naive", "modern", "old",
    "instead", "because", "after", "before", "while", "most", "some", "many", "few", "over",
    "under", "about", "into", "from", "years", "months", "weeks", "users", "engineers",
    "code", "review", "data", "model", "storage", "layer", "protocol", "client", "server",
];

const DOMAINS: &[&str] = &[
    "blog.example.org",
    "engineering.example.com",
    "notes.example.net",
    "research.example.edu",
    "dev.example.io",
    "systems.example.dev",
    "words.example.co.uk",
    "example-labs.com",
];

const SUBREDDITS: &[&str] = &["programming", "rust", "golang", "distributed", "databases"];

/// One sentence of `min..=max` words, capitalized, with a period.
pub fn sentence(rng: &mut Rng, min: u64, max: u64) -> String {
    let n = min + rng.below(max - min + 1);
    let mut out = String::new();
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        let word = if rng.chance(0.08) {
            rng.pick(TECH)
        } else if rng.chance(0.002) {
            rng.pick(TOPIC_WORDS)
        } else {
            rng.pick(WORDS)
        };
        if i == 0 {
            let mut chars = word.chars();
            if let Some(c) = chars.next() {
                out.extend(c.to_uppercase());
                out.push_str(chars.as_str());
            }
        } else {
            out.push_str(word);
        }
    }
    out.push('.');
    out
}

/// `sentences` sentences of 8-24 words, as one paragraph.
pub fn paragraph(rng: &mut Rng, sentences: u64) -> String {
    (0..sentences)
        .map(|_| sentence(rng, 8, 24))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A headline; about one in `topical` mentions a distributed-systems term.
pub fn title(rng: &mut Rng, topical: u64) -> String {
    let subject = if rng.below(topical) == 0 {
        rng.pick(TOPIC_WORDS)
    } else {
        rng.pick(TECH)
    };
    match rng.below(4) {
        0 => format!("{} {subject} in {}", rng.pick(VERBS), rng.pick(TECH)),
        1 => format!(
            "{} {subject}: {}",
            rng.pick(VERBS),
            sentence(rng, 4, 8).trim_end_matches('.')
        ),
        2 => format!(
            "What {} years of {subject} taught us about {}",
            2 + rng.below(9),
            rng.pick(TECH)
        ),
        _ => format!("{subject} {}", sentence(rng, 3, 7).trim_end_matches('.')),
    }
}

/// The article URL of story `key`, as one site links it: the same key gives the same
/// canonical URL, but sites add tracking parameters, `www.` and trailing slashes.
pub fn article_url(rng: &mut Rng, key: u64) -> String {
    let domain = DOMAINS[(key % DOMAINS.len() as u64) as usize];
    let www = if rng.chance(0.2) { "www." } else { "" };
    let slash = if rng.chance(0.2) { "/" } else { "" };
    let tracking = match rng.below(5) {
        0 => "?utm_source=hackernews&utm_medium=social",
        1 => "?ref=lobsters",
        2 => "#comments",
        _ => "",
    };
    format!("https://{www}{domain}/posts/{key:x}-notes{slash}{tracking}")
}

/// A neutral description of one story on one site, turned into each wire format below.
#[derive(Debug, Clone)]
pub struct Item {
    pub key: u64,
    pub title: String,
    pub url: String,
    /// Plain text: a self post's body, a feed entry's content.
    pub text: String,
    pub points: i64,
    pub comments: i64,
    /// Unix seconds.
    pub published: i64,
    pub tags: Vec<String>,
    pub author: String,
    pub self_post: bool,
}

/// `n` items published within `span_secs` before `newest` (unix seconds); each article key
/// is drawn from `keys` (a small range repeats URLs across listings, as real sites do).
pub fn items(
    rng: &mut Rng,
    n: usize,
    keys: std::ops::Range<u64>,
    newest: i64,
    span_secs: i64,
) -> Vec<Item> {
    (0..n)
        .map(|_| {
            let key = keys.start + rng.below(keys.end - keys.start);
            // Titles and tags follow the article, so one story reads the same everywhere.
            let mut own = Rng::new(key);
            let title = title(&mut own, 12);
            let tags = (0..1 + own.below(3))
                .map(|_| own.pick(TECH).to_lowercase().replace(' ', "-"))
                .collect();
            let sentences = 3 + rng.below(5);
            Item {
                key,
                title,
                url: article_url(rng, key),
                text: paragraph(rng, sentences),
                points: rng.points(12.0),
                comments: rng.points(3.0),
                published: newest - rng.below(span_secs.max(1) as u64) as i64,
                tags,
                author: format!("user{}", rng.below(5000)),
                self_post: rng.chance(0.05),
            }
        })
        .collect()
}

fn rfc3339(unix: i64) -> String {
    DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn rfc2822(unix: i64) -> String {
    DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S +0000")
        .to_string()
}

fn highlight(value: &str) -> Value {
    json!({"matchLevel": "none", "matchedWords": [], "value": value})
}

/// An Algolia search response (`hits[]`), as in `fixtures/sites/hn_front_page.json`.
pub fn hn_listing(items: &[Item]) -> Vec<u8> {
    let hits: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let id = 48_000_000 + it.key * 7 + i as u64;
            let (url, text) = if it.self_post {
                (Value::Null, Value::String(it.text.clone()))
            } else {
                (Value::String(it.url.clone()), Value::Null)
            };
            json!({
                "_highlightResult": {
                    "author": highlight(&it.author),
                    "title": highlight(&it.title),
                    "url": highlight(url.as_str().unwrap_or_default()),
                },
                "_tags": ["story", format!("author_{}", it.author), format!("story_{id}"), "front_page"],
                "author": it.author,
                "children": [id + 11, id + 530, id + 1377],
                "created_at": rfc3339(it.published),
                "created_at_i": it.published,
                "num_comments": it.comments,
                "objectID": id.to_string(),
                "points": it.points,
                "story_id": id,
                "story_text": text,
                "title": it.title,
                "updated_at": rfc3339(it.published + 3600),
                "url": url,
            })
        })
        .collect();
    let doc = json!({
        "exhaustive": {"nbHits": true, "typo": true},
        "exhaustiveNbHits": true,
        "exhaustiveTypo": true,
        "hits": hits,
        "hitsPerPage": items.len(),
        "nbHits": items.len(),
        "nbPages": 1,
        "page": 0,
        "params": "tags=front_page&hitsPerPage=100",
        "processingTimeMS": 2,
        "query": "",
    });
    serde_json::to_vec(&doc).unwrap()
}

/// Fields every real Reddit post carries that the adapter ignores: they make a listing
/// weigh what a real one does (about 5 KB per post).
#[rustfmt::skip]
const REDDIT_NULLS: &[&str] = &[
    "approved_at_utc", "approved_by", "author_flair_background_color", "author_flair_css_class",
    "author_flair_template_id", "author_flair_text", "author_flair_text_color", "banned_at_utc",
    "banned_by", "category", "content_categories", "discussion_type", "distinguished", "likes",
    "link_flair_background_color", "link_flair_css_class", "link_flair_text", "mod_note",
    "mod_reason_by", "mod_reason_title", "num_reports", "removal_reason", "removed_by",
    "removed_by_category", "report_reasons", "secure_media", "selftext_html", "suggested_sort",
    "top_awarded_type", "view_count", "media",
];
#[rustfmt::skip]
const REDDIT_FALSES: &[&str] = &[
    "archived", "author_is_blocked", "author_patreon_flair", "author_premium", "can_gild",
    "can_mod_post", "clicked", "contest_mode", "hidden", "hide_score", "is_created_from_ads_ui",
    "is_meta", "is_original_content", "is_reddit_media_domain", "is_video", "locked",
    "media_only", "no_follow", "pinned", "quarantine", "saved", "spoiler", "stickied", "visited",
];

fn reddit_preview(it: &Item) -> Value {
    let image = format!("https://external-preview.redd.it/{:x}-preview.jpg", it.key);
    let resolutions: Vec<Value> = [108, 216, 320, 640, 960, 1080]
        .iter()
        .map(|w| json!({"height": w * 9 / 16, "url": format!("{image}?width={w}&amp;crop=smart&amp;auto=webp&amp;s={:040x}", it.key.wrapping_mul(*w)), "width": w}))
        .collect();
    json!({
        "enabled": false,
        "images": [{
            "id": format!("{:x}", it.key),
            "resolutions": resolutions,
            "source": {"height": 630, "url": format!("{image}?auto=webp&amp;s={:040x}", it.key), "width": 1200},
            "variants": {},
        }],
    })
}

/// A Reddit Listing (`data.children[].data`), as in `fixtures/sites/reddit_programming_top.json`.
pub fn reddit_listing(items: &[Item], subreddit: &str) -> Vec<u8> {
    let children: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let id = format!("1p{:05x}", (it.key * 31 + i as u64) & 0xf_ffff);
            let slug: String = it
                .title
                .to_lowercase()
                .chars()
                .map(|c| if c.is_alphanumeric() { c } else { '_' })
                .take(40)
                .collect();
            let permalink = format!("/r/{subreddit}/comments/{id}/{slug}/");
            let mut data = Map::new();
            for key in REDDIT_NULLS {
                data.insert((*key).into(), Value::Null);
            }
            for key in REDDIT_FALSES {
                data.insert((*key).into(), Value::Bool(false));
            }
            let url = if it.self_post {
                format!("https://www.reddit.com{permalink}")
            } else {
                it.url.clone()
            };
            let fields = json!({
                "all_awardings": [], "allow_live_comments": false, "author": it.author,
                "author_flair_richtext": [], "author_flair_type": "text",
                "author_fullname": format!("t2_{:x}", it.key), "awarders": [],
                "created": it.published as f64, "created_utc": it.published as f64,
                "domain": if it.self_post { format!("self.{subreddit}") } else { url.split('/').nth(2).unwrap_or("").to_string() },
                "downs": 0, "edited": false, "gilded": 0, "gildings": {}, "id": id,
                "is_crosspostable": true, "is_robot_indexable": true, "is_self": it.self_post,
                "link_flair_richtext": [], "link_flair_type": "text", "media_embed": {},
                "mod_reports": [], "name": format!("t3_{id}"), "num_comments": it.comments,
                "num_crossposts": 0, "over_18": false, "permalink": permalink,
                "post_hint": "link", "preview": reddit_preview(it), "pwls": 6,
            });
            let more = json!({
                "score": it.points, "secure_media_embed": {},
                "selftext": if it.self_post { it.text.clone() } else { String::new() },
                "send_replies": true, "subreddit": subreddit,
                "subreddit_id": "t5_2fwo", "subreddit_name_prefixed": format!("r/{subreddit}"),
                "subreddit_subscribers": 6_841_220, "subreddit_type": "public",
                "thumbnail": format!("https://b.thumbs.redditmedia.com/{:x}.jpg", it.key),
                "thumbnail_height": 78, "thumbnail_width": 140, "title": it.title,
                "total_awards_received": 0, "treatment_tags": [], "ups": it.points,
                "upvote_ratio": 0.94, "url": url, "url_overridden_by_dest": url,
                "user_reports": [], "wls": 6,
            });
            for part in [fields, more] {
                if let Value::Object(fields) = part {
                    data.extend(fields);
                }
            }
            json!({"kind": "t3", "data": data})
        })
        .collect();
    let doc = json!({
        "kind": "Listing",
        "data": {
            "after": "t3_1p9z4aa", "dist": items.len(), "modhash": "", "geo_filter": null,
            "children": children, "before": null,
        },
    });
    serde_json::to_vec(&doc).unwrap()
}

/// A Lobsters story array, as in `fixtures/sites/lobsters_hottest.json` (new captures:
/// `submitter_user` is a string).
pub fn lobsters_listing(items: &[Item]) -> Vec<u8> {
    let stories: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let short_id = format!("{:06x}", (it.key * 13 + i as u64) & 0xff_ffff);
            let (url, description) = if it.self_post {
                (String::new(), format!("<p>{}</p>", it.text))
            } else {
                (it.url.clone(), String::new())
            };
            let plain = description.replace("<p>", "").replace("</p>", "");
            json!({
                "short_id": short_id,
                "short_id_url": format!("https://lobste.rs/s/{short_id}"),
                "created_at": rfc3339(it.published),
                "title": it.title,
                "url": url,
                "score": it.points / 8,
                "flags": 0,
                "comment_count": it.comments / 4,
                "description": description,
                "description_plain": plain,
                "comments_url": format!("https://lobste.rs/s/{short_id}/{}", it.key),
                "submitter_user": it.author,
                "user_is_author": false,
                "tags": it.tags,
            })
        })
        .collect();
    serde_json::to_vec(&stories).unwrap()
}

/// A Dev.to `/api/articles` array, as in `fixtures/sites/devto_top.json`.
pub fn devto_listing(items: &[Item]) -> Vec<u8> {
    let articles: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let id = 3_000_000 + it.key * 3 + i as u64;
            let slug = format!("post-{:x}", it.key);
            let page = format!("https://dev.to/{}/{slug}", it.author);
            let canonical = if it.self_post { page.clone() } else { it.url.clone() };
            let cover = format!("https://media2.dev.to/dynamic/image/width=1000,height=420,fit=cover,gravity=auto,format=auto/https%3A%2F%2Fdev-to-uploads.s3.amazonaws.com%2Fuploads%2Farticles%2F{slug}.png");
            json!({
                "type_of": "article", "id": id, "title": it.title,
                "description": sentence(&mut Rng::new(it.key), 10, 22),
                "readable_publish_date": "Nov 15", "slug": slug,
                "path": format!("/{}/{slug}", it.author), "url": page,
                "comments_count": it.comments, "public_reactions_count": it.points,
                "collection_id": null, "published_timestamp": rfc3339(it.published),
                "language": "en", "subforem_id": 1, "positive_reactions_count": it.points,
                "cover_image": cover, "social_image": cover, "canonical_url": canonical,
                "created_at": rfc3339(it.published - 3600), "edited_at": null,
                "crossposted_at": null, "published_at": rfc3339(it.published),
                "last_comment_at": rfc3339(it.published + 86_400),
                "reading_time_minutes": 6, "tag_list": it.tags, "tags": it.tags.join(", "),
                "user": {
                    "name": format!("User {}", it.author), "username": it.author,
                    "twitter_username": null, "github_username": it.author, "user_id": it.key,
                    "website_url": null,
                    "profile_image": format!("https://media2.dev.to/dynamic/image/width=640,height=640,fit=cover,gravity=auto,format=auto/https%3A%2F%2Fdev-to-uploads.s3.amazonaws.com%2Fuploads%2Fuser%2Fprofile_image%2F{}.png", it.key),
                    "profile_image_90": format!("https://media2.dev.to/dynamic/image/width=90,height=90,fit=cover,gravity=auto,format=auto/https%3A%2F%2Fdev-to-uploads.s3.amazonaws.com%2Fuploads%2Fuser%2Fprofile_image%2F{}.png", it.key),
                },
            })
        })
        .collect();
    serde_json::to_vec(&articles).unwrap()
}

/// An entry body as blogs publish it: paragraphs with a link and some inline code.
fn entry_html(it: &Item) -> String {
    let mut out = String::new();
    for (i, sentence) in it.text.split(". ").enumerate() {
        if i % 2 == 0 {
            if i > 0 {
                out.push_str("</p>");
            }
            out.push_str("<p>");
        } else {
            out.push(' ');
        }
        out.push_str(sentence.trim_end_matches('.'));
        out.push('.');
        if i == 1 {
            let _ = write!(
                out,
                " See <a href=\"{}\">the <code>notes</code></a>.",
                it.url
            );
        }
    }
    out.push_str("</p>");
    out
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An RSS 2.0 feed, as in `fixtures/feeds/dist-blog.rss`.
pub fn rss_feed(items: &[Item]) -> Vec<u8> {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n  <title>Example Systems Blog</title>\n  <link>https://blog.example.org/</link>\n  <description>Notes on building reliable systems</description>\n  <language>en-us</language>\n  <atom:link href=\"https://blog.example.org/feed.xml\" rel=\"self\" type=\"application/rss+xml\"/>\n");
    for it in items {
        let _ = write!(
            out,
            "  <item>\n    <title>{}</title>\n    <link>{}</link>\n    <guid isPermaLink=\"false\">blog-{:x}</guid>\n    <pubDate>{}</pubDate>\n    <dc:creator>{}</dc:creator>\n",
            xml_escape(&it.title),
            xml_escape(&it.url),
            it.key,
            rfc2822(it.published),
            xml_escape(&it.author)
        );
        for tag in &it.tags {
            let _ = writeln!(out, "    <category>{}</category>", xml_escape(tag));
        }
        let _ = write!(
            out,
            "    <description>{}</description>\n  </item>\n",
            xml_escape(&entry_html(it))
        );
    }
    out.push_str("</channel>\n</rss>\n");
    out.into_bytes()
}

/// An Atom 1.0 feed, as in `fixtures/feeds/infra-weekly.atom`.
pub fn atom_feed(items: &[Item]) -> Vec<u8> {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n  <title type=\"text\">Infra Weekly</title>\n  <subtitle>Links about infrastructure, every week</subtitle>\n  <id>tag:infra-weekly.example.net,2026:feed</id>\n  <link rel=\"alternate\" type=\"text/html\" href=\"https://infra-weekly.example.net/\"/>\n  <link rel=\"self\" type=\"application/atom+xml\" href=\"https://infra-weekly.example.net/atom.xml\"/>\n  <updated>2026-11-20T18:00:00Z</updated>\n  <author><name>Infra Weekly</name></author>\n");
    for it in items {
        let _ = write!(
            out,
            "  <entry>\n    <title>{}</title>\n    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n    <id>tag:infra-weekly.example.net,2026:{:x}</id>\n    <published>{}</published>\n    <updated>{}</updated>\n    <author><name>{}</name></author>\n",
            xml_escape(&it.title),
            xml_escape(&it.url),
            it.key,
            rfc3339(it.published),
            rfc3339(it.published),
            xml_escape(&it.author)
        );
        for tag in &it.tags {
            let _ = writeln!(out, "    <category term=\"{}\"/>", xml_escape(tag));
        }
        let _ = write!(
            out,
            "    <content type=\"html\">{}</content>\n  </entry>\n",
            xml_escape(&entry_html(it))
        );
    }
    out.push_str("</feed>\n");
    out.into_bytes()
}

/// A JSON Feed 1.1, as in `fixtures/feeds/rust-news.json`.
pub fn json_feed(items: &[Item]) -> Vec<u8> {
    let entries: Vec<Value> = items
        .iter()
        .map(|it| {
            json!({
                "id": format!("https://rust-news.example.com/{:x}", it.key),
                "url": it.url,
                "title": it.title,
                "content_html": entry_html(it),
                "date_published": rfc3339(it.published),
                "tags": it.tags,
                "authors": [{"name": it.author}],
            })
        })
        .collect();
    let doc = json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Rust News Digest",
        "home_page_url": "https://rust-news.example.com/",
        "feed_url": "https://rust-news.example.com/feed.json",
        "items": entries,
    });
    serde_json::to_vec(&doc).unwrap()
}

/// The source kinds a listing can be generated for; `name` is used in config ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Rss,
    Atom,
    JsonFeed,
    HackerNews,
    Reddit,
    Lobsters,
    Devto,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Rss,
        Kind::Atom,
        Kind::JsonFeed,
        Kind::HackerNews,
        Kind::Reddit,
        Kind::Lobsters,
        Kind::Devto,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Rss => "feed-rss",
            Kind::Atom => "feed-atom",
            Kind::JsonFeed => "feed-json",
            Kind::HackerNews => "hackernews",
            Kind::Reddit => "reddit",
            Kind::Lobsters => "lobsters",
            Kind::Devto => "devto",
        }
    }

    /// The body of one listing of `items` in this kind's wire format.
    pub fn listing(self, items: &[Item]) -> Vec<u8> {
        match self {
            Kind::Rss => rss_feed(items),
            Kind::Atom => atom_feed(items),
            Kind::JsonFeed => json_feed(items),
            Kind::HackerNews => hn_listing(items),
            Kind::Reddit => reddit_listing(items, "programming"),
            Kind::Lobsters => lobsters_listing(items),
            Kind::Devto => devto_listing(items),
        }
    }

    /// A `[[source]]` table for this kind, polling `url`.
    pub fn source_toml(self, id: &str, url: &str) -> String {
        let kind = match self {
            Kind::Rss | Kind::Atom | Kind::JsonFeed => "kind = \"feed\"".to_string(),
            Kind::HackerNews => "kind = \"hackernews\"".to_string(),
            Kind::Reddit => "kind = \"reddit\"\nsubreddit = \"programming\"".to_string(),
            Kind::Lobsters => "kind = \"lobsters\"".to_string(),
            Kind::Devto => "kind = \"devto\"".to_string(),
        };
        format!("[[source]]\nid = \"{id}\"\n{kind}\nurl = \"{url}\"\n")
    }
}

/// The topic every benchmark selects: the reference "Distributed Systems" page.
pub const TOPIC_TOML: &str = r#"
[[topic]]
slug = "distributed-systems"
title = "Distributed Systems"
description = "Consensus algorithms, CAP theorem, fault tolerance, architectural patterns."
window = "30d"
limit = 30
sort = "points"
min_relevance = 2

[topic.keywords]
"raft" = 3
"paxos" = 3
"consensus" = 2
"CAP theorem" = 3
"distributed" = 1
"replication" = 1
"fault tolerance" = 2
"leader election" = 2
"quorum" = 1
[topic.exclude]
terms = ["nft", "crypto airdrop"]
[topic.min_points]
hackernews = 10
reddit = 20
lobsters = 2
devto = 5
"#;

/// A config with one source of every kind (ids are the kinds' names) and the topic.
pub fn config() -> Config {
    let mut text = String::from(
        "[server]\nlisten = \"127.0.0.1:8080\"\nbase_url = \"http://127.0.0.1:8080\"\ndata_dir = \"data\"\n\n",
    );
    for kind in Kind::ALL {
        text.push_str(&kind.source_toml(kind.name(), "https://bench.example.org/listing"));
        text.push('\n');
    }
    text.push_str(TOPIC_TOML);
    Config::parse(Path::new("bench.toml"), &text).unwrap_or_else(|e| panic!("{e}"))
}

/// Site key, display name and discussion URL of a sighting of `it` on the site of `kind`.
fn site_of(kind: Kind, it: &Item) -> (String, String, Option<String>) {
    match kind {
        Kind::HackerNews => (
            "hackernews".into(),
            "Hacker News".into(),
            Some(format!("https://news.ycombinator.com/item?id={}", it.key)),
        ),
        Kind::Reddit => {
            let sub = SUBREDDITS[(it.key % SUBREDDITS.len() as u64) as usize];
            (
                format!("reddit:/r/{sub}"),
                format!("/r/{sub}"),
                Some(format!(
                    "https://www.reddit.com/r/{sub}/comments/{:x}/",
                    it.key
                )),
            )
        }
        Kind::Lobsters => (
            "lobsters".into(),
            "Lobsters".into(),
            Some(format!("https://lobste.rs/s/{:06x}", it.key & 0xff_ffff)),
        ),
        Kind::Devto => (
            "devto".into(),
            "Dev.to".into(),
            Some(format!("https://dev.to/{}/post-{:x}", it.author, it.key)),
        ),
        Kind::Rss | Kind::Atom | Kind::JsonFeed => {
            ("feed:blog".into(), "Example Systems Blog".into(), None)
        }
    }
}

/// What an adapter would have made of `it` on the site of `kind`, without the parsing.
pub fn sighting(kind: Kind, it: &Item, fetched_at: DateTime<Utc>) -> Sighting {
    let (site, site_name, discussion_url) = site_of(kind, it);
    let scored = !matches!(kind, Kind::Rss | Kind::Atom | Kind::JsonFeed);
    Sighting {
        source: kind.name().to_string(),
        site,
        site_name,
        item_id: Some(format!("{:x}", it.key)),
        url: it.url.clone(),
        title: it.title.clone(),
        text: it.text.clone(),
        html: None,
        author: Some(it.author.clone()),
        tags: it.tags.clone(),
        points: scored.then_some(it.points),
        comments: scored.then_some(it.comments),
        discussion_url,
        published: DateTime::from_timestamp(it.published, 0),
        fetched_at,
        is_self_post: false,
    }
}

/// Candidates for the distinct stories `keys`, published within `span_secs` before
/// `newest`; about one in four is seen on a second site (two candidates, one story).
pub fn candidate_batch(
    rng: &mut Rng,
    keys: std::ops::Range<u64>,
    newest: DateTime<Utc>,
    span_secs: i64,
    summary_words: usize,
) -> Vec<Candidate> {
    let mut out = Vec::with_capacity((keys.end - keys.start) as usize * 5 / 4);
    for key in keys {
        let it = &items(rng, 1, key..key + 1, newest.timestamp(), span_secs)[0];
        let sites = [
            Kind::HackerNews,
            Kind::Reddit,
            Kind::Lobsters,
            Kind::Devto,
            Kind::Rss,
        ];
        let first = *rng.pick(&sites);
        let mut kinds = vec![first];
        if rng.chance(0.25) {
            let second = *rng.pick(&sites[..3]);
            if second != first {
                kinds.push(second);
            }
        }
        for kind in kinds {
            if let Ok(c) =
                Candidate::from_sighting(sighting(kind, it, newest), summary_words, false)
            {
                out.push(c);
            }
        }
    }
    out
}

/// `candidate_batch` for stories `0..n`, at the benchmarks' fixed `now()`.
pub fn candidates(seed: u64, n: usize, span_secs: i64, summary_words: usize) -> Vec<Candidate> {
    let mut rng = Rng::new(seed);
    candidate_batch(&mut rng, 0..n as u64, now(), span_secs, summary_words)
}

/// `n` merged stories (as the store would hold them), newest first.
pub fn stories(seed: u64, n: usize, span_secs: i64) -> Vec<Story> {
    use feedsift::store::merge::merge;
    let mut by_id: std::collections::HashMap<_, Story> = std::collections::HashMap::new();
    for c in candidates(seed, n, span_secs, 60) {
        let existing = by_id.remove(&c.id);
        let story = merge(existing, &c);
        by_id.insert(c.id, story);
    }
    let mut out: Vec<Story> = by_id.into_values().collect();
    out.sort_by(|a, b| b.published.cmp(&a.published).then(a.id.cmp(&b.id)));
    out
}
