//! `feedsift check`: the example config is valid; bad configs are reported with file, line,
//! column and key, every problem at once, and a non-zero exit.
//!
//! The configs here are literal TOML on purpose: the messages point at their lines and columns.

use crate::support::{check, feedsift};

#[test]
fn the_example_config_is_valid_and_has_the_promised_topics() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/feeds.toml");
    let out = feedsift()
        .args(["check", "--config", path])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "topic  distributed-systems",
        "hackernews",
        "reddit",
        "lobsters",
        "devto",
        "feed",
    ] {
        assert!(stdout.contains(needle), "{needle} missing from:\n{stdout}");
    }
    assert!(stdout.matches("\n  topic ").count() >= 3, "{stdout}");
}

#[test]
fn every_problem_is_reported_with_its_place() {
    let (ok, _, stderr) = check(
        r#"[defaults]
poll = "10x"

[[source]]
id = "hn"
kind = "hackernews"
subreddit = "rust"

[[source]]
id = "blog"
kind = "feed"

[[topic]]
slug = "ds"
title = "DS"
sources = ["hn", "nope"]
sort = "popular"
[topic.min_points]
hackrnews = 5
"#,
    );
    assert!(!ok);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "config error: feeds.toml:2:8: key `defaults.poll`: invalid duration \"10x\": unknown unit 'x' (expected s, m, h, d or w, e.g. 15m, 30d)",
            "config error: feeds.toml:7:13: key `source[0].subreddit`: does not apply to kind = \"hackernews\"",
            "config error: feeds.toml:11:8: key `source[1].url`: is required for kind = \"feed\"",
            "config error: feeds.toml:16:18: key `topic[0].sources`: unknown source \"nope\" (no [[source]] has this id)",
            "config error: feeds.toml:17:8: key `topic[0].sort`: \"popular\" is not one of points, recent, hot",
            "config error: feeds.toml:18:1: key `topic[0].min_points.hackrnews`: unknown site \"hackrnews\", did you mean `hackernews`? (expected one of hackernews, reddit, lobsters, devto)",
        ]
    );
}

#[test]
fn unknown_keys_and_syntax_errors_point_at_the_line() {
    let (ok, _, stderr) = check("[[topic]]\nslug = \"x\"\ntitle = \"X\"\nmin_point = 3\n");
    assert!(!ok);
    assert!(
        stderr.starts_with("config error: feeds.toml:4:1: unknown key `min_point`, did you mean `min_points`? (expected one of `slug`, "),
        "{stderr}"
    );
    let (ok, _, stderr) = check("[server\nlisten = 1\n");
    assert!(!ok);
    assert!(
        stderr.starts_with("config error: feeds.toml:1:8: "),
        "{stderr}"
    );
    let (ok, _, stderr) = check("[server]\nlisten = \"nowhere\"\n");
    assert!(!ok);
    assert!(
        stderr.contains("feeds.toml:2:10: key `server.listen`"),
        "{stderr}"
    );
}

#[test]
fn values_get_suggestions_too() {
    let (ok, _, stderr) = check(
        "[[source]]\nid = \"blog\"\nkind = \"rss\"\nurl = \"https://x.org/f\"\n\n[[source]]\nid = \"r\"\nkind = \"reddit\"\nsubreddit = \"rust\"\nlisting = \"hott\"\n\n[[topic]]\nslug = \"t\"\ntitle = \"T\"\nsort = \"recnt\"\nsources = [\"r\", \"blg\"]\n",
    );
    assert!(!ok);
    for expected in [
        "feeds.toml:3:8: key `source[0].kind`: unknown kind \"rss\", did you mean `feed`? (it reads RSS, Atom and JSON Feed)",
        "feeds.toml:10:11: key `source[1].listing`: \"hott\" is not one of hot, top, new, rising, best, did you mean `hot`?",
        "feeds.toml:15:8: key `topic[0].sort`: \"recnt\" is not one of points, recent, hot, did you mean `recent`?",
        "feeds.toml:16:17: key `topic[0].sources`: unknown source \"blg\" (no [[source]] has this id)",
    ] {
        assert!(stderr.contains(expected), "{expected}\nnot in:\n{stderr}");
    }
}

#[test]
fn check_warns_about_topics_that_cannot_match_and_unused_sources() {
    let (ok, stdout, _) = check(
        "[[source]]\nid = \"a\"\nkind = \"hackernews\"\n\n[[source]]\nid = \"b\"\nkind = \"lobsters\"\n\n[[topic]]\nslug = \"empty\"\ntitle = \"E\"\nsources = []\n\n[[topic]]\nslug = \"strict\"\ntitle = \"S\"\nsources = [\"a\"]\nmin_relevance = 5\n[topic.keywords]\n\"raft\" = 2\n",
    );
    assert!(ok, "warnings do not fail the check");
    assert!(
        stdout.contains("warning: topic \"empty\" can never match: `sources` is empty"),
        "{stdout}"
    );
    assert!(stdout.contains("warning: topic \"strict\" can never match: all its keywords together weigh less than min_relevance 5"), "{stdout}");
    assert!(
        stdout.contains("warning: source \"b\" is used by no topic (it is still polled)"),
        "{stdout}"
    );
}

#[test]
fn check_names_the_database_without_its_password() {
    let (ok, stdout, stderr) = check(
        "[store]\nurl = \"postgres://feedsift:s3cret@db.internal:5432/feedsift\"\nnode_id = \"web-1\"\nlease = \"10s\"\n\n[[topic]]\nslug = \"t\"\ntitle = \"T\"\n",
    );
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains(
            "data in PostgreSQL postgres://feedsift:***@db.internal:5432/feedsift as node web-1 (8 connections, lease 10s)"
        ),
        "{stdout}"
    );
    assert!(
        !stdout.contains("s3cret") && !stderr.contains("s3cret"),
        "{stdout}"
    );
}
