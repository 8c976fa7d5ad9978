//! Topic indexes in a running daemon (a real process): once `/healthz` reports a topic
//! indexed, its feeds are byte for byte what a window scan gives (`export` without a daemon),
//! and a reload that changes a topic's rules rebuilds its index.

use crate::support::{
    config, get, get_json, hn, rss_titles, topic, ConfigBuilder, Upstream, Workspace, HN_FRONT_PAGE,
};
use std::time::{Duration, Instant};

/// Hacker News' front page and two topics: `ds` by `ds_keywords`, and the 4 latest stories.
fn index_config(hn_url: &str, ds_keywords: &[(&str, i64)]) -> ConfigBuilder {
    config()
        .source(hn(hn_url).poll("1h"))
        .topic(
            topic("ds")
                .title("Distributed Systems")
                .min_relevance(2)
                .keywords(ds_keywords)
                .exclude(&["crypto airdrop"]),
        )
        .topic(topic("latest").title("Latest").sort("recent").limit(4))
}

const DS: &[(&str, i64)] = &[
    ("raft", 3),
    ("consensus", 2),
    ("paxos", 2),
    ("cap theorem", 2),
];

/// Waits until every topic of the running config is served from its index with nothing
/// left to file.
async fn wait_indexed(base: &str, slugs: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let health = get_json(&format!("{base}/healthz")).await;
        let topics = health["topics"].as_array().cloned().unwrap_or_default();
        let listed: Vec<&str> = topics.iter().filter_map(|t| t["slug"].as_str()).collect();
        let indexed = topics.iter().all(|t| t["indexed"] == true);
        if listed == slugs && indexed && health["index_backlog"] == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "never indexed: {health}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexed_feeds_match_a_window_scan_and_follow_rule_changes() {
    let up = Upstream::start().await;
    let hn_url = up.serve("/hn", HN_FRONT_PAGE);
    let ws = Workspace::new(&index_config(&hn_url, DS));
    ws.fetch_once();
    let out_dir = ws.dir.path().join("scan");
    let exported = ws.run(&["export", "--out", out_dir.to_str().unwrap()]);
    assert!(exported.status.success());

    let daemon = ws.serve().await;
    wait_indexed(&daemon.base, &["ds", "latest"]).await;
    for (file, path) in [
        ("t/ds.rss", "/t/ds.rss"),
        ("t/ds.json", "/t/ds.json"),
        ("t/latest.atom", "/t/latest.atom"),
        ("t/latest/index.html", "/t/latest"),
    ] {
        let served = get(&daemon.url(path)).await.bytes().await.unwrap();
        assert_eq!(
            String::from_utf8_lossy(&served),
            std::fs::read_to_string(out_dir.join(file)).unwrap(),
            "{path}"
        );
    }
    let ds = get(&daemon.url("/t/ds.rss")).await.text().await.unwrap();
    assert_eq!(
        rss_titles(&ds),
        [
            "Raft in Practice: Lessons from Five Years of Consensus",
            "Paxos Made Moderately Complex, Revisited",
            "The CAP theorem is not a menu",
        ]
    );

    // New rules for `ds`: its index is dropped and built again for them.
    ws.write_config(&index_config(&hn_url, &[("replication", 3)]));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ds = get(&daemon.url("/t/ds.rss")).await.text().await.unwrap();
        if rss_titles(&ds) == ["Chain replication for the rest of us"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new rules never applied:\n{ds}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_indexed(&daemon.base, &["ds", "latest"]).await;
    let ds = get(&daemon.url("/t/ds.rss?limit=5"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(rss_titles(&ds), ["Chain replication for the rest of us"]);
    daemon.stop_cleanly();
}
