//! Every real-world feed under `../shared/corpus` (the `feeds/` collection and the sites'
//! RSS/Atom captures) is either ingested or rejected with a clear reason, never a panic.
//! Skipped with a note when the corpus is absent.

use crate::support::lib_api::{
    parse_source, to_utf8, Candidate, SourceConfig, SourceContext, SourceKind, DEFAULT_MAX_ENTRIES,
};
use chrono::{TimeZone, Utc};
use std::path::{Path, PathBuf};
use std::time::Duration;

const FEED_DIRS: &[&str] = &["feeds", "hn/rss", "reddit/rss", "lobsters/rss", "devto/rss"];

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else if !path.to_string_lossy().ends_with("normalized.json") {
            // `*normalized.json` are a peer project's expected outputs, not feeds.
            out.push(path);
        }
    }
}

enum Outcome {
    Ingested(usize),
    Empty,
    Rejected(String),
}

fn ingest(bytes: &[u8], source: &SourceConfig) -> Outcome {
    let url = url::Url::parse("https://corpus.example/feed").unwrap();
    let ctx = SourceContext {
        source,
        url: &url,
        fetched_at: Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap(),
        max_entries: DEFAULT_MAX_ENTRIES,
    };
    let (utf8, _) = to_utf8(bytes, None);
    match parse_source(&ctx, &utf8) {
        Err(e) => Outcome::Rejected(e.to_string()),
        Ok(parsed) => {
            let stories = parsed
                .sightings
                .into_iter()
                .filter_map(|s| Candidate::from_sighting(s, 60, true).ok())
                .inspect(|c| {
                    assert!(
                        !c.sighting.title.is_empty(),
                        "empty title for {}",
                        c.canonical_url
                    )
                })
                .count();
            if stories == 0 {
                Outcome::Empty
            } else {
                Outcome::Ingested(stories)
            }
        }
    }
}

#[test]
fn every_real_feed_is_ingested_or_rejected_with_a_reason() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !corpus.is_dir() {
        eprintln!("corpus not found at {}: skipped", corpus.display());
        return;
    }
    let mut files = Vec::new();
    for dir in FEED_DIRS {
        files_under(&corpus.join(dir), &mut files);
    }
    files.sort();
    assert!(
        files.len() > 200,
        "expected the corpus feeds, found {}",
        files.len()
    );
    let source = SourceConfig {
        id: "corpus".into(),
        kind: SourceKind::Feed,
        url: url::Url::parse("https://corpus.example/feed").unwrap(),
        poll: Duration::from_secs(900),
        name: "Corpus".into(),
    };
    let (mut ingested, mut empty, mut stories) = (0, 0, 0);
    let mut rejected = Vec::new();
    let mut panicked = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let name = path.strip_prefix(&corpus).unwrap().display().to_string();
        match std::panic::catch_unwind(|| ingest(&bytes, &source)) {
            Ok(Outcome::Ingested(n)) => {
                ingested += 1;
                stories += n;
            }
            Ok(Outcome::Empty) => empty += 1,
            Ok(Outcome::Rejected(reason)) => {
                assert!(
                    reason.len() > 10,
                    "{name}: rejected without a clear reason: {reason:?}"
                );
                rejected.push(format!("{name}: {reason}"));
            }
            Err(_) => panicked.push(name),
        }
    }
    eprintln!(
        "corpus feeds: {} files: {ingested} ingested ({stories} stories), {empty} valid but without usable entries, {} rejected, {} panicked",
        files.len(),
        rejected.len(),
        panicked.len()
    );
    for r in &rejected {
        eprintln!("  rejected {r}");
    }
    assert!(panicked.is_empty(), "panics on: {panicked:?}");
    // Most of the corpus is real, valid feeds: a regression that rejects them shows here.
    assert!(
        ingested * 10 >= files.len() * 8,
        "only {ingested} of {} ingested",
        files.len()
    );
}
