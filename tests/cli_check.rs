//! `feedsift check`: the example config is valid; bad configs are reported with file, line,
//! column and key, every problem at once, and a non-zero exit.

use std::process::Command;

fn check(config: &str) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feeds.toml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_feedsift"))
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr)
        .unwrap()
        .replace(&path.display().to_string(), "feeds.toml");
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        stderr,
    )
}

#[test]
fn the_example_config_is_valid_and_has_the_promised_topics() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/feeds.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_feedsift"))
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
            "config error: feeds.toml:18:1: key `topic[0].min_points.hackrnews`: unknown site \"hackrnews\" (expected one of hackernews, reddit, lobsters, devto)",
        ]
    );
}

#[test]
fn unknown_keys_and_syntax_errors_point_at_the_line() {
    let (ok, _, stderr) = check("[[topic]]\nslug = \"x\"\ntitle = \"X\"\nmin_point = 3\n");
    assert!(!ok);
    assert!(
        stderr.starts_with("config error: feeds.toml:4:1: unknown field `min_point`"),
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
