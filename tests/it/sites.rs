//! End to end with the four community sites: one article posted to Hacker News, Reddit,
//! Lobsters and Dev.to under four URL decorations is one item with four sightings; points
//! rules and ranking apply; a second poll updates points in place without a new guid.

use crate::support::{
    all_elements, assert_well_formed, config, get_text, rss_titles, topic, ConfigBuilder, Upstream,
    Workspace,
};
use serde_json::Value;

/// Where the upstream serves each site's front page (Hacker News, /r/programming, Lobsters,
/// Dev.to), as the real sites' APIs would.
const SITE_PATHS: [&str; 4] = [
    "/api/v1/search",
    "/r/programming/top.json",
    "/hottest.json",
    "/api/articles",
];

/// The four sites as served for the first poll, and three topics over them.
fn sites_config(up: &Upstream) -> ConfigBuilder {
    config()
        .sources(up.serve_sites(SITE_PATHS, 1))
        .topic(
            topic("distributed-systems")
                .title("Distributed Systems")
                .sort("points")
                .min_relevance(2)
                .keywords(&[
                    ("raft", 3),
                    ("paxos", 3),
                    ("consensus", 2),
                    ("CAP theorem", 3),
                    ("fault tolerance", 2),
                    ("replication", 2),
                    ("byzantine", 2),
                    ("leader election", 3),
                ])
                .exclude(&["crypto airdrop"])
                .min_points(&[
                    ("hackernews", 100),
                    ("reddit", 200),
                    ("lobsters", 15),
                    ("devto", 25),
                ]),
        )
        .topic(
            topic("lobsters-tags")
                .title("Tagged distributed on Lobsters")
                .sources(&["lobsters"])
                .sort("recent")
                .keywords(&[("databases", 1)]),
        )
        .topic(topic("discussed").title("Much discussed").min_comments(60))
}

const RAFT: &str = "Raft in Practice: Lessons from Five Years of Consensus";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_article_on_four_sites_is_one_item_and_repolls_update_points() {
    let up = Upstream::start().await;
    let ws = Workspace::new(&sites_config(&up));
    let out = ws.fetch_once();
    assert_eq!(
        out.lines().filter(|l| l.contains(" 200 ok ")).count(),
        4,
        "{out}"
    );

    let daemon = ws.serve().await;
    let rss = get_text(&daemon.url("/t/distributed-systems.rss")).await;
    assert_well_formed(&rss);
    // Ranked by the best sighting's points; below-threshold, excluded, NSFW and off-topic
    // stories are absent (the 410-point crypto airdrop story would otherwise lead).
    assert_eq!(
        rss_titles(&rss),
        [
            "Fault tolerance lessons from a 14-hour outage",
            RAFT,
            "Paxos vs Raft: a practical comparison for service owners",
            "How do you explain the CAP theorem to junior developers?",
            "Paxos Made Moderately Complex, Revisited",
            "The CAP theorem is not a menu",
            "Understanding the CAP Theorem with Pizza Delivery",
            "Designing for fault tolerance: retries, timeouts and circuit breakers",
            "Event sourcing and replication in practice",
            "Byzantine fault tolerance without the hype",
            "Paxos in 200 lines of OCaml",
            "What replication strategy do you use for SQLite?",
            "The CAP theorem, twenty-six years later",
        ]
    );
    let raft_item = rss.split("<item>").find(|i| i.contains(RAFT)).unwrap();
    assert!(
        raft_item.contains("<link>https://blog.example.org/posts/raft-in-practice</link>"),
        "{raft_item}"
    );
    assert!(raft_item.contains("<comments>https://www.reddit.com/r/programming/comments/1pa2m8d/raft_in_practice__lessons_from_five_year/</comments>"));
    assert!(raft_item.contains(
        "Sources: <a href=\"https://www.reddit.com/r/programming/comments/1pa2m8d/raft_in_practice__lessons_from_five_year/\">/r/programming</a> 426 pts (88 comments) · \
         <a href=\"https://news.ycombinator.com/item?id="
    ), "{raft_item}");
    assert!(raft_item.contains("Hacker News</a> 225 pts (41 comments) · "));
    assert!(raft_item.contains("Dev.to</a> 52 pts (9 comments) · "));
    assert!(raft_item.contains("Lobsters</a> 38 pts (12 comments)"));
    let guid = all_elements(raft_item, "guid").remove(0);

    let atom = get_text(&daemon.url("/t/distributed-systems.atom")).await;
    assert_well_formed(&atom);
    let raft_entry = atom.split("<entry>").find(|e| e.contains(RAFT)).unwrap();
    assert_eq!(raft_entry.matches("rel=\"related\"").count(), 4);
    assert!(raft_entry.contains("<link href=\"https://lobste.rs/s/q8rzte/raft_in_practice_lessons_from_five\" rel=\"related\" type=\"text/html\" title=\"Lobsters\"/>"));

    let json: Value =
        serde_json::from_str(&get_text(&daemon.url("/t/distributed-systems.json")).await).unwrap();
    let raft = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"] == RAFT)
        .unwrap();
    assert_eq!(raft["id"], guid.as_str());
    assert_eq!(
        raft["external_url"],
        "https://blog.example.org/posts/raft-in-practice"
    );
    let sightings: Vec<(String, i64)> = raft["_feedsift"]["sightings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["site"].as_str().unwrap().to_string(),
                s["points"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        sightings,
        [
            ("/r/programming".into(), 426),
            ("Hacker News".into(), 225),
            ("Dev.to".into(), 52),
            ("Lobsters".into(), 38)
        ]
    );
    assert!(raft["_feedsift"]["sightings"][0]["first_seen"].is_string());
    // Tags from Lobsters and Dev.to are the union, and count for keyword rules.
    let tags: Vec<&str> = raft["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for tag in [
        "distributed",
        "databases",
        "distributedsystems",
        "raft",
        "go",
    ] {
        assert!(tags.contains(&tag), "{tags:?}");
    }
    let tagged = get_text(&daemon.url("/t/lobsters-tags.rss")).await;
    assert!(rss_titles(&tagged).contains(&RAFT.to_string()));
    // min_comments: a story passes when any sighting has enough comments.
    let discussed = rss_titles(&get_text(&daemon.url("/t/discussed.rss")).await);
    assert!(
        discussed.contains(&"Ask HN: How do you test fault tolerance in production?".to_string())
    );
    assert!(!discussed.contains(&"Paxos in 200 lines of OCaml".to_string()));
    daemon.stop_cleanly();

    // Second poll: points grew. Same guid, one item, figures updated; the Ask HN post now
    // passes its 100-point threshold.
    up.serve_sites(SITE_PATHS, 2);
    let out = ws.fetch_once();
    assert!(
        out.lines()
            .find(|l| l.starts_with("hn "))
            .unwrap()
            .contains("0 new"),
        "{out}"
    );
    let daemon = ws.serve().await;
    let rss = get_text(&daemon.url("/t/distributed-systems.rss")).await;
    assert_eq!(rss.matches(RAFT).count(), 1);
    let titles = rss_titles(&rss);
    assert_eq!(titles.len(), 14, "{titles:?}");
    assert_eq!(
        titles[6],
        "Ask HN: How do you test fault tolerance in production?"
    );
    let raft_item = rss.split("<item>").find(|i| i.contains(RAFT)).unwrap();
    assert_eq!(all_elements(raft_item, "guid"), [guid]);
    assert!(raft_item.contains("/r/programming</a> 480 pts (102 comments)"));
    assert!(raft_item.contains("Hacker News</a> 310 pts (57 comments)"));
    assert!(raft_item.contains("Dev.to</a> 61 pts (11 comments)"));
    assert!(raft_item.contains("Lobsters</a> 44 pts (15 comments)"));
    // The Ask HN self post links to its discussion, which is also its guid's source.
    let ask = rss.split("<item>").find(|i| i.contains("Ask HN:")).unwrap();
    assert!(
        ask.contains("<link>https://news.ycombinator.com/item?id="),
        "{ask}"
    );
    daemon.stop_cleanly();
}
