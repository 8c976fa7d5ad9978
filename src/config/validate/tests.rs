//! Validation as a whole: every problem of a file in one pass, in file order, each with its
//! place and words a person understands; the new keys and the values that used to pass here
//! and fail later.

use crate::config::*;
use std::path::Path;

fn errors(text: &str) -> Vec<String> {
    match Config::parse(Path::new("feeds.toml"), text) {
        Ok(_) => Vec::new(),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

fn config(text: &str) -> Config {
    Config::parse(Path::new("feeds.toml"), text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn unknown_keys_and_type_errors_are_all_reported_in_one_pass_in_file_order() {
    let text = r#"[server]
listen = "127.0.0.1:8080"
lisen = "x"

[defaults]
pol = "15m"
timeout = 20
summary_words = "sixty"

[[source]]
id = "hn"
kind = "hackernews"
urll = "https://x"

[[topic]]
slug = "ds"
title = "DS"
sort = "recnt"
windw = "7d"
[topic.keywords]
"raft" = "three"
"paxos" = 2
"#;
    assert_eq!(
        errors(text),
        [
            "feeds.toml:3:1: unknown key `lisen`, did you mean `listen`? (expected one of `listen`, `base_url`, `data_dir`, `header_timeout`, `max_connections`, `cache_bytes`, `send_timeout`)",
            "feeds.toml:6:1: unknown key `pol`, did you mean `poll`? (expected one of `poll`, `timeout`, `max_body`, `user_agent`, `summary_words`, `max_entries`, `allow_private_networks`, `model_dir`)",
            "feeds.toml:7:11: key `defaults.timeout`: expected a string, found an integer",
            "feeds.toml:8:17: key `defaults.summary_words`: expected an integer, found a string",
            "feeds.toml:13:1: unknown key `urll`, did you mean `url`? (expected one of `id`, `kind`, `url`, `poll`, `name`, `subreddit`, `listing`, `period`, `include_nsfw`, `tag`)",
            "feeds.toml:18:8: key `topic[0].sort`: \"recnt\" is not one of points, recent, hot, did you mean `recent`?",
            "feeds.toml:19:1: unknown key `windw`, did you mean `window`? (expected one of `slug`, `title`, `description`, `sources`, `window`, `limit`, `sort`, `min_relevance`, `keywords`, `exclude`, `domains`, `min_points`, `min_comments`, `summaries`, `min_points_for_llm`, `content`, `about`)",
            "feeds.toml:21:10: key `topic[0].keywords.raft`: expected a number, found a string",
        ]
    );
}

#[test]
fn a_source_without_kind_is_reported_without_follow_on_errors() {
    let text = "[[source]]\nid = \"blog\"\n\n[[topic]]\nslug = \"t\"\ntitle = \"T\"\nsources = [\"blog\"]\n";
    assert_eq!(
        errors(text),
        ["feeds.toml:1:1: key `source[0]`: missing key `kind`, which every such table needs"]
    );
}

#[test]
fn syntax_errors_keep_their_position() {
    let e = errors("[server\nlisten = 1\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("feeds.toml:1:8: "), "{e:?}");
}

#[test]
fn user_agent_must_be_a_header_value() {
    let e = errors("[defaults]\nuser_agent = \"x\\ny\"\n");
    assert_eq!(
        e,
        ["feeds.toml:2:14: key `defaults.user_agent`: \"x\\ny\" cannot be sent as an HTTP header: it must be one line without control characters"]
    );
    assert_eq!(errors("[defaults]\nuser_agent = \"a\\u0000b\"\n").len(), 1);
    assert_eq!(errors("[defaults]\nuser_agent = \"a\\u007fb\"\n").len(), 1);
    let c = config(
        "[defaults]\nuser_agent = \"feedsift-fork/1.0 (+https://example.org/bot; tab\\there)\"\n",
    );
    assert!(c.defaults.user_agent.contains("tab\there"));
    // Whatever passes builds a client.
    reqwest::Client::builder()
        .user_agent(c.defaults.user_agent.clone())
        .build()
        .unwrap();
}

#[test]
fn sizes_durations_and_addresses_that_would_fail_later_are_refused() {
    for (text, expected) in [
        (
            "[defaults]\nmax_body = \"15 GiB\"\n",
            "feeds.toml:2:12: key `defaults.max_body`: \"15 GiB\" is too large (at most 256MiB)",
        ),
        (
            "[defaults]\nmax_body = \"0MiB\"\n",
            "feeds.toml:2:12: key `defaults.max_body`: \"0MiB\" is too small (at least 1KiB)",
        ),
        (
            "[defaults]\nmax_body = \"99999999999999999999GiB\"\n",
            "feeds.toml:2:12: key `defaults.max_body`: invalid size \"99999999999999999999GiB\" (expected e.g. 15MiB or 500KB)",
        ),
        (
            "[defaults]\ntimeout = \"0s\"\n",
            "feeds.toml:2:11: key `defaults.timeout`: must be longer than zero",
        ),
        (
            "[defaults]\ntimeout = \"2d\"\n",
            "feeds.toml:2:11: key `defaults.timeout`: \"2d\" is too long (at most 1h)",
        ),
        (
            "[server]\nheader_timeout = \"0s\"\n",
            "feeds.toml:2:18: key `server.header_timeout`: must be longer than zero",
        ),
        (
            "[server]\nlisten = \"127.0.0.1:0\"\n",
            "feeds.toml:2:10: key `server.listen`: \"127.0.0.1:0\" has port 0 (a random port each start): give a port, e.g. 127.0.0.1:8080",
        ),
        (
            "[server]\ndata_dir = \"\"\n",
            "feeds.toml:2:12: key `server.data_dir`: must not be empty (e.g. \"./data\")",
        ),
        (
            "[defaults]\npoll = \"99999999999999w\"\n",
            "feeds.toml:2:8: key `defaults.poll`: \"99999999999999w\" is too long (at most 36500d)",
        ),
        (
            "[[topic]]\nslug = \"t\"\ntitle = \"T\"\nwindow = \"40000d\"\n",
            "feeds.toml:4:10: key `topic[0].window`: \"40000d\" is too long (at most 36500d)",
        ),
    ] {
        assert_eq!(errors(text), [expected], "{text}");
    }
    assert_eq!(
        config("[defaults]\nmax_body = \"256MiB\"\n")
            .defaults
            .max_body,
        256 << 20
    );
}

#[test]
fn new_keys_have_defaults_and_bounds() {
    let c = config("");
    assert_eq!(c.server.cache_bytes, 64 << 20);
    assert_eq!(c.server.send_timeout, std::time::Duration::from_secs(30));
    assert_eq!(c.defaults.max_entries, 1000);
    assert!(!c.defaults.allow_private_networks);

    let c = config(
        "[server]\ncache_bytes = \"1MiB\"\nsend_timeout = \"1s\"\n[defaults]\nmax_entries = 100000\nallow_private_networks = true\n",
    );
    assert_eq!(c.server.cache_bytes, 1 << 20);
    assert_eq!(c.server.send_timeout, std::time::Duration::from_secs(1));
    assert_eq!(c.defaults.max_entries, 100_000);
    assert!(c.defaults.allow_private_networks);
    assert_eq!(
        config("[server]\ncache_bytes = 2097152\n")
            .server
            .cache_bytes,
        2 << 20
    );

    assert_eq!(
        errors("[server]\ncache_bytes = \"512KiB\"\nsend_timeout = \"500ms\"\n[defaults]\nmax_entries = 0\nallow_private_networks = \"yes\"\n"),
        [
            "feeds.toml:2:15: key `server.cache_bytes`: \"512KiB\" is too small (at least 1MiB)",
            "feeds.toml:3:16: key `server.send_timeout`: invalid duration \"500ms\": a number must come before 's' (e.g. 15m, 30d)",
            "feeds.toml:5:15: key `defaults.max_entries`: 0 is out of range (expected 1 to 100000)",
            "feeds.toml:6:26: key `defaults.allow_private_networks`: expected true or false, found a string",
        ]
    );
    assert_eq!(
        errors("[server]\nsend_timeout = \"0s\"\n[defaults]\nmax_entries = 100001\n"),
        [
            "feeds.toml:2:16: key `server.send_timeout`: must be longer than zero",
            "feeds.toml:4:15: key `defaults.max_entries`: 100001 is out of range (expected 1 to 100000)",
        ]
    );
}

#[test]
fn regex_terms_and_domains_are_checked_where_they_are_written() {
    let text = r#"[[source]]
id = "hn"
kind = "hackernews"

[[topic]]
slug = "t"
title = "T"
[topic.keywords]
"/post-?mortem/" = 2
"/raft(/" = 1
[topic.exclude]
terms = ["/[z-a]/"]
[topic.domains]
include = ["rust-lang.org", "https://blog.example.org/x"]
exclude = ["Medium.com"]
"#;
    let errors = errors(text);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        errors[0].starts_with(
            "feeds.toml:10:13: key `topic[0].keywords`: bad regular expression \"/raft(/\""
        ),
        "{}",
        errors[0]
    );
    assert!(errors[1].contains("feeds.toml:12:10:"), "{}", errors[1]);
    assert!(
        errors[1].contains("bad regular expression \"/[z-a]/\""),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].contains("feeds.toml:14:29: key `topic[0].domains.include`: \"https://blog.example.org/x\" is not a domain"),
        "{}",
        errors[2]
    );
    let ok = config(
        &text
            .replace("\"/raft(/\" = 1\n", "")
            .replace("\"/[z-a]/\"", "\"crypto\"")
            .replace(", \"https://blog.example.org/x\"", ""),
    );
    let rules = &ok.topics[0].rules;
    assert_eq!(rules.include_domains, ["rust-lang.org"]);
    assert_eq!(rules.exclude_domains, ["medium.com"]);
    assert_eq!(rules.min_relevance, 1.0);
}

#[test]
fn push_hubs_are_http_urls_listed_once_and_min_interval_a_duration() {
    let c = config("[push]\nhubs = [\"https://hub.example/\", \"http://10.0.0.7:8080/hub\"]\n");
    let hubs: Vec<&str> = c.push.hubs.iter().map(|u| u.as_str()).collect();
    assert_eq!(hubs, ["https://hub.example/", "http://10.0.0.7:8080/hub"]);
    assert_eq!(c.push.min_interval, DEFAULT_PUSH_INTERVAL);
    assert!(config("").push.hubs.is_empty());
    assert_eq!(
        config("[push]\nmin_interval = \"5m\"\n").push.min_interval,
        Duration::from_secs(300)
    );
    let text = "[push]\nhubs = [\"ftp://hub.example/\", \"https://h.example/\", \"https://h.example/\", 3]\nmin_interval = \"0s\"\nmin_intervall = 1\n";
    assert_eq!(
        errors(text),
        [
            "feeds.toml:2:9: key `push.hubs`: \"ftp://hub.example/\" is not an http(s) URL",
            "feeds.toml:2:53: key `push.hubs`: hub \"https://h.example/\" is listed twice",
            "feeds.toml:2:75: key `push.hubs`: expected a string, found an integer",
            "feeds.toml:3:16: key `push.min_interval`: must be longer than zero",
            "feeds.toml:4:1: unknown key `min_intervall`, did you mean `min_interval`? (expected one of `hubs`, `min_interval`)",
        ]
    );
}

#[test]
fn webhooks_name_an_url_known_topics_and_a_key_from_the_environment() {
    std::env::set_var("FEEDSIFT_TEST_HOOK_KEY", "k3y-value");
    let c = config("[[topic]]\nslug = \"ds\"\ntitle = \"DS\"\n\n[[webhook]]\nurl = \"https://u:p@hooks.example/h/abc?token=s3cret#x\"\ntopics = [\"ds\"]\nsecret_env = \"FEEDSIFT_TEST_HOOK_KEY\"\nformat = \"jsonfeed\"\n\n[[webhook]]\nurl = \"http://10.0.0.9/all\"\n");
    let (a, b) = (&c.webhooks[0], &c.webhooks[1]);
    assert!(a.hears("ds") && !a.hears("rust") && b.hears("rust"));
    assert_eq!(
        a.secret.as_ref().map(|s| s.bytes()),
        Some(b"k3y-value".as_slice())
    );
    assert_eq!(a.shown_url(), "https://hooks.example/h/abc");
    assert_eq!(a.key().len(), 16);
    assert_ne!(a.key(), b.key());
    assert!(!format!("{c:?}").contains("k3y-value"));
    assert_eq!(a.retry_for, Duration::from_secs(86_400), "a day by default");
    let c = config("[[webhook]]\nurl = \"http://10.0.0.9/all\"\nretry_for = \"7d\"\n");
    assert_eq!(c.webhooks[0].retry_for, Duration::from_secs(7 * 86_400));
    let text = "[[topic]]\nslug = \"ds\"\ntitle = \"DS\"\n\n[[webhook]]\nurl = \"ftp://x/\"\ntopics = [\"dss\"]\nformat = \"rss\"\nsecret_env = \"FEEDSIFT_TEST_UNSET_KEY\"\nretry_for = \"90d\"\n\n[[webhook]]\ntopics = []\n";
    assert_eq!(
        errors(text),
        [
            "feeds.toml:6:7: key `webhook[0].url`: \"ftp://x/\" is not an http(s) URL",
            "feeds.toml:7:11: key `webhook[0].topics`: no topic has the slug \"dss\"",
            "feeds.toml:8:10: key `webhook[0].format`: \"rss\" is not a format webhooks send (expected jsonfeed)",
            "feeds.toml:9:14: key `webhook[0].secret_env`: the environment variable FEEDSIFT_TEST_UNSET_KEY holding the webhook's key is not set or empty",
            "feeds.toml:10:13: key `webhook[0].retry_for`: \"90d\" is too long (at most 30d)",
            "feeds.toml:12:1: key `webhook[1]`: missing key `url`, which every such table needs",
        ]
    );
}

#[test]
fn llm_section_defaults_and_a_topic_that_opts_in() {
    let c = config(
        "[llm]\nendpoint = \"http://127.0.0.1:11434/v1/\"\nmodel = \"smollm2\"\n\n[[topic]]\nslug = \"t\"\ntitle = \"T\"\nsummaries = \"llm\"\nmin_points_for_llm = 50\n\n[[topic]]\nslug = \"u\"\ntitle = \"U\"\n",
    );
    let llm = c.llm.as_ref().unwrap();
    assert_eq!(llm.model, "smollm2");
    assert_eq!(
        (llm.timeout.as_secs(), llm.concurrency, llm.max_per_hour),
        (60, 2, 60)
    );
    assert_eq!((llm.max_input_words, llm.api_key_env.as_ref()), (300, None));
    assert_eq!(llm.api_key(), Ok(None));
    assert_eq!(
        c.topics[0].summaries,
        crate::select::SummaryMode::Llm {
            min_points: Some(50)
        }
    );
    assert!(c.uses_llm() && c.reads_articles());
    assert!(!c.topics[1].summaries.uses_llm());
    assert_eq!(
        errors("[[topic]]\nslug = \"t\"\ntitle = \"T\"\nsummaries = \"lm\"\n"),
        ["feeds.toml:4:13: key `topic[0].summaries`: \"lm\" is not one of article, feed, llm, did you mean `llm`?"]
    );
}

#[test]
fn store_is_sled_by_default_and_a_postgres_url_with_its_settings_otherwise() {
    assert_eq!(config("").store, crate::config::StoreConfig::default());
    let c = config("[store]\nurl = \"postgres://feedsift:secret@db.internal:5432/feedsift\"\nnode_id = \"web-1\"\nconnections = 4\nlease = \"10s\"\n");
    assert_eq!(
        c.store.url.as_deref(),
        Some("postgres://feedsift:secret@db.internal:5432/feedsift")
    );
    assert_eq!(c.store.node_id.as_deref(), Some("web-1"));
    assert_eq!(c.store.connections, 4);
    assert_eq!(c.store.lease, Duration::from_secs(10));
    let text = "[store]\nurl = \"mysql://db/x\"\nnode_id = \"web 1\"\nconnections = 0\nlease = \"1s\"\nnode = 1\n";
    assert_eq!(
        errors(text),
        [
            "feeds.toml:2:7: key `store.url`: expected a PostgreSQL URL such as \"postgres://feedsift@db.internal:5432/feedsift\"",
            "feeds.toml:3:11: key `store.node_id`: \"web 1\" must be 1 to 64 characters of a-z, A-Z, 0-9, '-', '_' and '.'",
            "feeds.toml:4:15: key `store.connections`: 0 is out of range (expected 1 to 64)",
            "feeds.toml:5:9: key `store.lease`: \"1s\" is too short (at least 2s)",
            "feeds.toml:6:1: unknown key `node` (expected one of `url`, `node_id`, `connections`, `lease`)",
        ]
    );
    let text = "[store]\nurl = \"postgres://db/x?sslmode=verify-full\"\n";
    assert_eq!(
        errors(text),
        ["feeds.toml:2:7: key `store.url`: sslmode=verify-full needs sslrootcert: a PEM file of the CA certificates to trust, or `system` for the public web CAs"]
    );
}
