//! Every real JSON capture of Hacker News (Algolia), Reddit, Lobsters and Dev.to under
//! `../shared/corpus` parses with its adapter and yields stories (skipped when the corpus is absent).

use crate::support::lib_api::{
    canonical_url, parse_devto, parse_hackernews, parse_lobsters, parse_reddit, Parsed,
    SourceConfig, SourceContext, SourceError, SourceKind, DEFAULT_MAX_ENTRIES,
};
use chrono::{TimeZone, Utc};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

type Adapter = fn(&SourceContext, &[u8]) -> Result<Parsed, SourceError>;

/// Captures that legitimately hold no stories, with the reason.
const NO_STORIES: &[(&str, &str)] = &[(
    "lobsters/json/tags.json",
    "lobste.rs/tags.json lists tags, not stories",
)];

/// Directories deliberately not parsed here, with the reason.
const NOT_PARSED: &[(&str, &str)] = &[
    (
        "hn/firebase",
        "Firebase API item objects and id lists: feedsift reads HN through Algolia only",
    ),
    ("hn/rss", "RSS: parsed by the feed adapter"),
    ("reddit/rss", "RSS/Atom: parsed by the feed adapter"),
    ("lobsters/rss", "RSS: parsed by the feed adapter"),
    ("devto/rss", "RSS: parsed by the feed adapter"),
];

/// `[{url, reply}]` recordings of several Algolia endpoints: each search or item reply is
/// parsed on its own; `users/` replies describe a user, not an item, and are left out.
const ALGOLIA_HARNESS: &str = "hn/algolia/algolia_responses_2014.json";

fn source(kind: SourceKind) -> SourceConfig {
    let url = kind.default_url().expect("site kinds have a default url");
    SourceConfig {
        id: kind.name().to_string(),
        kind,
        url,
        poll: Duration::from_secs(900),
        name: "corpus".to_string(),
    }
}

fn sites() -> Vec<(&'static str, SourceConfig, Adapter)> {
    let reddit_kind = SourceKind::Reddit {
        subreddit: "programming".into(),
        listing: "top".into(),
        period: Some("week".into()),
        include_nsfw: false,
    };
    vec![
        (
            "hn/algolia",
            source(SourceKind::HackerNews),
            parse_hackernews as Adapter,
        ),
        ("reddit/json", source(reddit_kind), parse_reddit),
        (
            "lobsters/json",
            source(SourceKind::Lobsters { tag: None }),
            parse_lobsters,
        ),
        (
            "devto/json",
            source(SourceKind::Devto { tag: None }),
            parse_devto,
        ),
    ]
}

/// Parses one body and checks what every sighting must hold; returns stories and skips.
fn check(adapter: Adapter, src: &SourceConfig, body: &[u8]) -> Result<(usize, usize), String> {
    let ctx = SourceContext {
        source: src,
        url: &src.url,
        fetched_at: Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap(),
        max_entries: DEFAULT_MAX_ENTRIES,
    };
    let parsed = adapter(&ctx, body).map_err(|e| e.to_string())?;
    for s in &parsed.sightings {
        let url_ok = s.url.starts_with("http://") || s.url.starts_with("https://");
        if s.title.is_empty() || !url_ok || s.item_id.is_none() || s.source != src.id {
            return Err(format!(
                "bad sighting {:?} {:?} {:?}",
                s.item_id, s.title, s.url
            ));
        }
    }
    Ok((parsed.sightings.len(), parsed.skipped.len()))
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    files
}

/// The bodies to parse out of one capture: the file itself, or the harness's replies.
fn bodies(relative: &str, bytes: Vec<u8>) -> Result<Vec<(String, Vec<u8>)>, String> {
    if relative != ALGOLIA_HARNESS {
        return Ok(vec![(relative.to_string(), bytes)]);
    }
    let records: Vec<Value> = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    Ok(records
        .iter()
        .filter_map(|r| {
            let url = r.get("url")?.as_str()?;
            let reply = r.get("reply")?;
            let is_item = url.contains("/search") || url.contains("/items/");
            is_item.then(|| (format!("{relative} {url}"), reply.to_string().into_bytes()))
        })
        .collect())
}

#[test]
fn every_site_capture_parses_and_yields_stories() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !corpus.is_dir() {
        eprintln!("corpus_sites: {} not found, skipping", corpus.display());
        return;
    }
    for (dir, reason) in NOT_PARSED {
        eprintln!("corpus_sites: not parsed here: {dir}: {reason}");
    }
    let mut failures = Vec::new();
    let (mut files, mut stories, mut skipped) = (0, 0, 0);
    for (dir, src, adapter) in sites() {
        let (mut dir_files, mut dir_stories) = (0, 0);
        for path in json_files(&corpus.join(dir)) {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
            let relative = format!("{dir}/{name}");
            let bytes = std::fs::read(&path).expect("corpus file is readable");
            let parts = match bodies(&relative, bytes) {
                Ok(parts) => parts,
                Err(e) => {
                    failures.push(format!("{relative}: {e}"));
                    continue;
                }
            };
            let mut file_stories = 0;
            for (label, body) in parts {
                match check(adapter, &src, &body) {
                    Ok((found, unusable)) => {
                        file_stories += found;
                        skipped += unusable;
                    }
                    Err(e) => failures.push(format!("{label}: {e}")),
                }
            }
            let allowed = NO_STORIES.iter().find(|(f, _)| *f == relative);
            match (file_stories, allowed) {
                (0, None) => failures.push(format!("{relative}: no stories")),
                (n, Some(_)) if n > 0 => failures.push(format!(
                    "{relative}: allow-listed as empty but has {n} stories"
                )),
                (_, Some((_, why))) => eprintln!("corpus_sites: {relative}: no stories ({why})"),
                _ => {}
            }
            eprintln!("corpus_sites: {relative}: {file_stories} stories");
            dir_files += 1;
            dir_stories += file_stories;
        }
        if dir_files == 0 {
            failures.push(format!("{dir}: no JSON captures found"));
        }
        eprintln!("corpus_sites: {dir}: {dir_files} files, {dir_stories} stories");
        files += dir_files;
        stories += dir_stories;
    }
    eprintln!("corpus_sites: total {files} files, {stories} stories, {skipped} entries skipped");
    assert!(
        failures.is_empty(),
        "captures that failed:\n  {}",
        failures.join("\n  ")
    );
}

/// The repo's own fixtures (`fixtures/sites/`): one article, "Raft in Practice", on all four
/// sites under different URL decorations, with points that grow between the two polls.
#[test]
fn site_fixtures_share_one_article() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sites");
    let raft = "https://blog.example.org/posts/raft-in-practice";
    let sites = sites();
    // (fixture stem, adapter index in `sites()`, stories, skipped, first-poll and second-poll points)
    let cases = [
        ("hn_front_page", 0, 7, 0, 225, 310),
        ("reddit_programming_top", 1, 6, 1, 426, 480),
        ("lobsters_hottest", 2, 6, 0, 38, 44),
        ("devto_top", 3, 6, 0, 52, 61),
    ];
    for (stem, site, stories, skipped, first, second) in cases {
        let (_, src, adapter) = &sites[site];
        for (suffix, points) in [("", first), ("_2", second)] {
            let name = format!("{stem}{suffix}.json");
            let body = std::fs::read(dir.join(&name)).expect("fixture exists");
            let ctx = SourceContext {
                source: src,
                url: &src.url,
                fetched_at: Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap(),
                max_entries: DEFAULT_MAX_ENTRIES,
            };
            let parsed = adapter(&ctx, &body).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(parsed.sightings.len(), stories, "{name}");
            assert_eq!(
                parsed.skipped.len(),
                skipped,
                "{name}: {:?}",
                parsed.skipped
            );
            let shared: Vec<_> = parsed
                .sightings
                .iter()
                .filter(|s| canonical_url(&s.url).as_deref() == Ok(raft))
                .collect();
            assert_eq!(shared.len(), 1, "{name}");
            let s = shared[0];
            assert_eq!(
                s.title,
                "Raft in Practice: Lessons from Five Years of Consensus"
            );
            assert_eq!(s.points, Some(points), "{name}");
            assert!(!s.is_self_post && s.discussion_url.is_some(), "{name}");
            let published = s.published.expect("dated");
            assert!(
                published > Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
                "{name}"
            );
            assert!(
                published < Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap(),
                "{name}"
            );
            let self_posts = parsed.sightings.iter().filter(|s| s.is_self_post).count();
            let expected_self = if site == 3 { 0 } else { 1 };
            assert_eq!(self_posts, expected_self, "{name}");
        }
    }
}
