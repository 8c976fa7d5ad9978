//! `feedsift check` reports every unknown key and every value of the wrong type in one
//! pass, each with file:line:col and plain words, and refuses values that would only fail
//! once the daemon runs.

use crate::support::check;

#[test]
fn four_unknown_keys_and_a_string_weight_are_all_reported() {
    let (ok, stdout, stderr) = check(
        r#"[server]
listen = "127.0.0.1:8080"
max_conections = 10

[defaults]
user_agnet = "me"
poll = "15m"

[[source]]
id = "hn"
kind = "hackernews"
intervall = "1h"

[[topic]]
slug = "ds"
title = "Distributed Systems"
limit = "thirty"
sort = "hot"
min_point = 50
[topic.keywords]
"raft" = "three"
"paxos" = 2
"#,
    );
    assert!(!ok, "{stdout}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "config error: feeds.toml:3:1: unknown key `max_conections`, did you mean `max_connections`? (expected one of `listen`, `base_url`, `data_dir`, `header_timeout`, `max_connections`, `cache_bytes`, `send_timeout`)",
            "config error: feeds.toml:6:1: unknown key `user_agnet`, did you mean `user_agent`? (expected one of `poll`, `timeout`, `max_body`, `user_agent`, `summary_words`, `max_entries`, `allow_private_networks`, `model_dir`)",
            "config error: feeds.toml:12:1: unknown key `intervall` (expected one of `id`, `kind`, `url`, `poll`, `name`, `subreddit`, `listing`, `period`, `include_nsfw`, `tag`)",
            "config error: feeds.toml:17:9: key `topic[0].limit`: expected an integer, found a string",
            "config error: feeds.toml:19:1: unknown key `min_point`, did you mean `min_points`? (expected one of `slug`, `title`, `description`, `sources`, `window`, `limit`, `sort`, `min_relevance`, `keywords`, `exclude`, `domains`, `min_points`, `min_comments`, `summaries`, `min_points_for_llm`, `content`, `about`)",
            "config error: feeds.toml:21:10: key `topic[0].keywords.raft`: expected a number, found a string",
        ]
    );
}

#[test]
fn type_errors_do_not_hide_validation_errors() {
    let (ok, _, stderr) = check(
        "[defaults]\npoll = \"10x\"\n\n[[topic]]\nslug = \"t\"\ntitle = \"T\"\nsort = \"popular\"\n[topic.keywords]\n\"raft\" = \"three\"\n",
    );
    assert!(!ok);
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            "config error: feeds.toml:2:8: key `defaults.poll`: invalid duration \"10x\": unknown unit 'x' (expected s, m, h, d or w, e.g. 15m, 30d)",
            "config error: feeds.toml:7:8: key `topic[0].sort`: \"popular\" is not one of points, recent, hot",
            "config error: feeds.toml:9:10: key `topic[0].keywords.raft`: expected a number, found a string",
        ]
    );
}

#[test]
fn a_user_agent_with_a_newline_is_rejected_by_check() {
    let (ok, stdout, stderr) = check("[defaults]\nuser_agent = \"x\\ny\"\n");
    assert!(!ok, "{stdout}");
    assert_eq!(
        stderr.trim_end(),
        "config error: feeds.toml:2:14: key `defaults.user_agent`: \"x\\ny\" cannot be sent as an HTTP header: it must be one line without control characters"
    );
    // A multi-line string literal is the same problem.
    let (ok, _, stderr) = check("[defaults]\nuser_agent = \"\"\"\nfeedsift\nbot\"\"\"\n");
    assert!(!ok);
    assert!(stderr.contains("key `defaults.user_agent`: "), "{stderr}");
}

#[test]
fn a_body_cap_beyond_the_ceiling_is_rejected_by_check() {
    let (ok, _, stderr) = check("[defaults]\nmax_body = \"15 GiB\"\n");
    assert!(!ok);
    assert_eq!(
        stderr.trim_end(),
        "config error: feeds.toml:2:12: key `defaults.max_body`: \"15 GiB\" is too large (at most 256MiB)"
    );
}

#[test]
fn check_prints_a_line_when_private_networks_are_allowed() {
    let (ok, stdout, _) = check("[defaults]\nallow_private_networks = true\n");
    assert!(ok);
    assert!(
        stdout.contains("  allow_private_networks is on: links and redirects from sources may reach loopback and private addresses"),
        "{stdout}"
    );
}
