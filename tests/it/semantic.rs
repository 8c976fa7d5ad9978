//! `[topic.about]` end to end with the real all-MiniLM-L6-v2 (found through FEEDSIFT_MODEL_DIR
//! or target/model/all-MiniLM-L6-v2; the tests fail without it): a link post with a neutral
//! title joins the feed by what its article says, explain shows the similarity, a restart
//! recomputes nothing, and a missing model falls back to keywords, loudly.

use crate::support::{config, get_json, get_text, hn, topic, ConfigBuilder, Upstream, Workspace};
use std::path::PathBuf;

fn model_dir() -> PathBuf {
    let dir = match std::env::var_os("FEEDSIFT_MODEL_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/model/all-MiniLM-L6-v2"),
    };
    assert!(
        dir.join("model.safetensors").is_file(),
        "the semantic tests need the real all-MiniLM-L6-v2 in {} (run scripts/fetch-model.sh or set FEEDSIFT_MODEL_DIR)",
        dir.display()
    );
    dir
}

fn listing(up: &Upstream) -> Vec<u8> {
    let hit = |id: u32, title: &str, url: String| {
        format!(
            r#"{{"objectID":"{id}","title":"{title}","url":"{url}","points":100,"num_comments":3,"created_at_i":1795000000,"author":"someone","story_text":null}}"#
        )
    };
    format!(
        r#"{{"hits":[{},{},{}],"nbHits":3}}"#,
        hit(1, "What we learned this year", up.url("/posts/learned")),
        hit(2, "Our new office dog", up.url("/posts/dog")),
        hit(3, "Replication lag, measured", up.url("/posts/lag")),
    )
    .into_bytes()
}

fn serve_pages(up: &Upstream) -> String {
    up.serve("/posts/learned", "articles/replication-lessons.html");
    up.serve("/posts/dog", "articles/office-dog.html");
    up.serve("/posts/lag", "articles/described-only.html");
    up.serve_bytes("/hn", listing(up))
}

fn ds_config(hn_url: String, model_dir: &str) -> ConfigBuilder {
    config()
        .default_key("allow_private_networks", true)
        .default_key("model_dir", model_dir)
        .source(hn(hn_url))
        .topic(
            topic("ds")
                .title("Distributed Systems")
                .article_summaries()
                .keywords(&[("replication", 1)])
                .about(
                    "phrases",
                    &[
                        "replication and fault tolerance in distributed databases",
                        "consensus algorithms such as Raft and Paxos",
                    ][..],
                ),
        )
}

/// `feedsift explain SLUG --all --json`: each explained story by its title.
fn explained(ws: &Workspace, slug: &str) -> std::collections::HashMap<String, serde_json::Value> {
    let explain = ws.run(&["explain", slug, "--all", "--json"]);
    let json: serde_json::Value =
        serde_json::from_slice(&explain.stdout).unwrap_or_else(|e| panic!("{e}: {explain:?}"));
    json["stories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["title"].as_str().unwrap().to_string(), s.clone()))
        .collect()
}

fn titles(feed: &serde_json::Value) -> Vec<String> {
    feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect()
}

fn computed(metrics: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("feedsift_embeddings_computed_total "))
        .unwrap_or_else(|| panic!("no embeddings counter in {metrics}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_neutral_title_joins_the_feed_by_its_article_and_a_restart_recomputes_nothing() {
    let up = Upstream::start().await;
    let hn_url = serve_pages(&up);
    let dir = model_dir();
    let ws = Workspace::new(&ds_config(hn_url, dir.to_str().unwrap()));

    let out = ws.fetch_once();
    assert!(out.contains("embeddings"), "{out}");

    let stories = explained(&ws, "ds");
    let story = |title: &str| {
        stories
            .get(title)
            .unwrap_or_else(|| panic!("{title} not explained: {stories:#?}"))
    };
    let learned = story("What we learned this year");
    let semantic = &learned["verdict"]["semantic"];
    assert!(
        semantic["similarity"].as_f64().unwrap() >= 0.40,
        "{learned:#}"
    );
    assert_eq!(semantic["contribution"], 1.0, "{learned:#}");
    assert_eq!(
        semantic["nearest"],
        "replication and fault tolerance in distributed databases"
    );
    assert!(learned["rank"].is_number(), "{learned:#}");
    let dog = story("Our new office dog");
    assert!(dog["verdict"]["semantic"]["similarity"].as_f64().unwrap() < 0.40);
    assert_eq!(dog["verdict"]["semantic"]["contribution"], 0.0);
    assert!(dog["rank"].is_null());
    // Keywords still count on their own.
    assert!(story("Replication lag, measured")["rank"].is_number());

    let table = String::from_utf8(ws.run(&["explain", "ds"]).stdout).unwrap();
    assert!(table.contains("similarity: 0."), "{table}");

    // The daemon finds every embedding stored: its start, its first poll and a restart
    // compute none.
    for _ in 0..2 {
        let daemon = ws.serve().await;
        let feed = get_json(&daemon.url("/t/ds.json")).await;
        let shown = titles(&feed);
        assert!(
            shown.contains(&"What we learned this year".to_string()),
            "{shown:?}"
        );
        assert!(
            !shown.contains(&"Our new office dog".to_string()),
            "{shown:?}"
        );
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        assert_eq!(computed(&get_text(&daemon.url("/metrics")).await), 0);
        let health = get_json(&daemon.url("/healthz")).await;
        assert_eq!(health["semantic"]["model"], "ok", "{health:#}");
        assert_eq!(
            health["semantic"]["topics_falling_back"],
            serde_json::json!([])
        );
        assert_eq!(health["semantic"]["backlog"], 0);
        daemon.stop_cleanly();
    }
}

/// A story about what the topic is not stays out whatever its keywords; re-polls that move
/// points never move a story in or out, nor recompute an embedding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlike_phrases_exclude_and_repolls_never_flap() {
    let up = Upstream::start().await;
    let hit = |id: u32, title: &str, path: &str, points: u32| {
        format!(
            r#"{{"objectID":"{id}","title":"{title}","url":"{}","points":{points},"num_comments":3,"created_at_i":1795000000,"author":"someone","story_text":null}}"#,
            up.url(path)
        )
    };
    up.serve("/posts/learned", "articles/replication-lessons.html");
    up.serve("/posts/home-dns", "articles/home-dns.html");
    let listing = |round: u32| {
        format!(
            r#"{{"hits":[{},{}],"nbHits":2}}"#,
            hit(
                1,
                "What we learned this year",
                "/posts/learned",
                100 + 40 * round
            ),
            hit(
                4,
                "Replication for my home DNS",
                "/posts/home-dns",
                300 - 40 * round
            ),
        )
        .into_bytes()
    };
    let hn_url = up.serve_bytes("/hn", listing(0));
    let dir = model_dir();
    let ws = Workspace::new(
        &ds_config(hn_url, dir.to_str().unwrap()).topic(
            topic("ds2")
                .title("Distributed Systems, with what it is not")
                .article_summaries()
                .keywords(&[("replication", 1)])
                .about(
                    "phrases",
                    &["replication and fault tolerance in distributed databases"][..],
                )
                .about("unlike", &["setting up my home network and homelab"][..]),
        ),
    );
    for round in 0..3 {
        up.serve_bytes("/hn", listing(round));
        let out = ws.fetch_once();
        let stories = explained(&ws, "ds2");
        let learned = &stories["What we learned this year"];
        assert!(learned["rank"].is_number(), "round {round}: {learned:#}");
        let home = &stories["Replication for my home DNS"];
        assert!(home["rank"].is_null(), "round {round}: {home:#}");
        let semantic = &home["verdict"]["semantic"];
        assert_eq!(semantic["excluded"], true, "{home:#}");
        assert_eq!(
            semantic["unlike"]["phrase"],
            "setting up my home network and homelab"
        );
        let excluded_by = home["verdict"]["excluded_by"][0].as_str().unwrap();
        assert!(
            excluded_by.starts_with("unlike \"setting up my home network and homelab\""),
            "{excluded_by}"
        );
        // The keyword alone would have let it in, as in the topic without `unlike`.
        assert!(home["verdict"]["relevance"].as_f64().unwrap() >= 1.0);
        let points = home["points"].as_i64().unwrap();
        assert_eq!(
            points,
            i64::from(300 - 40 * round),
            "the re-poll was stored"
        );
        // The first fetch embeds both stories; a re-poll that only moves points, none.
        let embedded = out.lines().any(|l| l.starts_with("embeddings"));
        assert_eq!(embedded, round == 0, "round {round}: {out}");
    }
    // The same rules without `unlike` admit it on its keyword.
    let home_in_ds = &explained(&ws, "ds")["Replication for my home DNS"];
    assert!(home_in_ds["rank"].is_number(), "{home_in_ds:#}");
    let table = String::from_utf8(ws.run(&["explain", "ds2", "--all"]).stdout).unwrap();
    assert!(table.contains("unlike: 0."), "{table}");
    assert!(table.contains("(excluded)"), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_computes_embeddings_of_new_stories() {
    let up = Upstream::start().await;
    let hn_url = serve_pages(&up);
    let dir = model_dir();
    let ws = Workspace::new(&ds_config(hn_url, dir.to_str().unwrap()));
    let daemon = ws.serve().await;
    let mut shown = Vec::new();
    for _ in 0..120 {
        shown = titles(&get_json(&daemon.url("/t/ds.json")).await);
        if shown.contains(&"What we learned this year".to_string()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert!(
        shown.contains(&"What we learned this year".to_string()),
        "{shown:?}"
    );
    assert!(computed(&get_text(&daemon.url("/metrics")).await) >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_model_falls_back_to_keywords_and_says_so() {
    let up = Upstream::start().await;
    let hn_url = serve_pages(&up);
    let ws = Workspace::new(&ds_config(hn_url, "/nonexistent/feedsift-model"));

    let check = ws.run(&["check"]);
    let stdout = String::from_utf8(check.stdout).unwrap();
    assert!(check.status.success(), "{stdout}");
    assert!(
        stdout.contains("warning: embedding model missing: /nonexistent/feedsift-model lacks")
            && stdout.contains("topics ds fall back to keywords"),
        "{stdout}"
    );

    ws.fetch_once();
    let daemon = ws.serve().await;
    let health = get_json(&daemon.url("/healthz")).await;
    assert!(
        health["semantic"]["model"]
            .as_str()
            .unwrap()
            .starts_with("missing: /nonexistent/feedsift-model"),
        "{health:#}"
    );
    assert_eq!(
        health["semantic"]["topics_falling_back"],
        serde_json::json!(["ds"])
    );
    let shown = titles(&get_json(&daemon.url("/t/ds.json")).await);
    assert_eq!(shown, ["Replication lag, measured"]);
    let (_, stderr) = daemon.stop();
    assert_eq!(
        stderr.matches("embedding model missing").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn model_status_lists_the_files_and_checks_the_hash() {
    let dir = model_dir();
    let ws = Workspace::new(&ds_config(
        "http://127.0.0.1:1/hn".into(),
        dir.to_str().unwrap(),
    ));
    let out = ws.run(&["model", "status"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("model.safetensors") && stdout.contains("sha256 of model.safetensors: ok"),
        "{stdout}"
    );
    let ws = Workspace::new(&ds_config("http://127.0.0.1:1/hn".into(), "/nonexistent/m"));
    let out = ws.run(&["model", "status"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(stdout.contains("model.safetensors  missing"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("feedsift model fetch"));
}
