//! End to end with generic feeds: a local upstream serves RSS 2.0, RSS 1.0, RSS 0.91, Atom
//! and JSON Feed fixtures; `feedsift fetch --once` stores them; `feedsift serve` serves the
//! curated topics; a real client checks what a feed reader would get.

use crate::support::{
    all_elements, assert_well_formed, client, config, feed, get, get_json, rss_titles, topic,
    Upstream, Workspace,
};
use reqwest::StatusCode;

/// Six generic feeds (RSS 2.0, Atom, JSON Feed, RSS 1.0, RSS 0.91, and one that is gone)
/// and two topics over them.
async fn workspace() -> (Upstream, Workspace) {
    let up = Upstream::start().await;
    let config = config()
        .poll("10m")
        .timeout("5s")
        .source(
            feed("blog", up.serve("/blog.rss", "feeds/dist-blog.rss")).name("Example Systems Blog"),
        )
        .source(
            feed("infra", up.serve("/infra.atom", "feeds/infra-weekly.atom")).name("Infra Weekly"),
        )
        .source(feed(
            "rustnews",
            up.serve("/rust.json", "feeds/rust-news.json"),
        ))
        .source(feed(
            "classic",
            up.serve("/classic.rdf", "feeds/classic.rdf"),
        ))
        .source(feed(
            "legacy",
            up.serve("/legacy.rss", "feeds/legacy-091.rss"),
        ))
        .source(feed("broken", up.fail("/gone.xml", 404)))
        .topic(
            topic("distributed-systems")
                .title("Distributed Systems")
                .description("Consensus algorithms, CAP theorem, fault tolerance.")
                .sort("recent")
                .min_relevance(2)
                .keywords(&[
                    ("raft", 3),
                    ("paxos", 3),
                    ("consensus", 2),
                    ("CAP theorem", 3),
                    ("fault tolerance", 2),
                    ("replication", 2),
                    ("distributed", 1),
                ])
                .exclude(&["crypto airdrop"]),
        )
        .topic(
            topic("rust")
                .title("Rust")
                .sources(&["rustnews"])
                .sort("recent")
                .limit(1)
                .keywords(&[("rust", 1)]),
        );
    let ws = Workspace::new(&config);
    (up, ws)
}

const EXPECTED_ORDER: [&str; 5] = [
    "Raft in Practice: Lessons from Five Years of Consensus",
    "Replication Lag Budgets &amp; Fault Tolerance at Scale",
    "Why the CAP Theorem Is Not the Whole Story",
    "Building a Raft Library in Rust",
    "The Byzantine Generals Problem, Annotated",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_get_the_curated_topic_and_ids_never_change() {
    let (up, ws) = workspace().await;

    // One line per source; the broken one fails without failing the run.
    let out = ws.fetch_once();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6, "{out}");
    let line = |id: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no line for {id} in {out}"))
            .to_string()
    };
    assert!(
        line("blog").contains("200 ok") && line("blog").contains("1 skipped"),
        "{out}"
    );
    // Blog and Infra Weekly share one article: 5 + 3 entries make 7 stories, whoever came first.
    let new_of = |id: &str| -> usize {
        line(id)
            .split(" new")
            .next()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(new_of("blog") + new_of("infra"), 7, "{out}");
    assert!(
        line("broken").contains("404 FAILED") && line("broken").contains("HTTP 404"),
        "{out}"
    );
    assert!(line("legacy").contains("1 new"), "{out}");

    let daemon = ws.serve().await;
    let http = client();
    let rss = get(&daemon.url("/t/distributed-systems.rss")).await;
    assert_eq!(rss.status(), StatusCode::OK);
    assert_eq!(
        rss.headers()["content-type"],
        "application/rss+xml; charset=utf-8"
    );
    assert_eq!(rss.headers()["access-control-allow-origin"], "*");
    let etag = rss.headers()["etag"].to_str().unwrap().to_string();
    let last_modified = rss.headers()["last-modified"].to_str().unwrap().to_string();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong etag: {etag}"
    );
    let body = rss.text().await.unwrap();
    assert_well_formed(&body);

    // The right stories in the right order; excluded, off-topic, out-of-window absent.
    assert_eq!(rss_titles(&body), EXPECTED_ORDER);
    for absent in [
        "Airdrop",
        "Office Plants",
        "Paxos Made Simple",
        "Kubernetes",
        "Distributed Transactions",
    ] {
        assert!(!body.contains(absent), "{absent} should not be in the feed");
    }
    // The same article from two feeds is one item with both sources, and a clean link.
    assert_eq!(body.matches("raft-in-practice").count(), 1, "{body}");
    assert!(body.contains("<link>https://blog.example.org/posts/raft-in-practice</link>"));
    // Neither feed scores the story, so the sites are listed by name.
    assert!(
        body.contains("Sources: Example Systems Blog · Infra Weekly"),
        "{body}"
    );
    // Summaries: the article's own text, boilerplate gone, markup gone, relative links resolved.
    assert!(body.contains("<description><![CDATA[We have run Raft in production for five years. Leader election was the easy part; membership changes were not."));
    assert!(!body.contains("appeared first on"));
    assert!(body.contains("<description><![CDATA[PACELC extends the CAP theorem with latency. Most systems trade consistency for latency long before a partition happens.]]></description>"));
    assert!(body.contains(&format!(
        "<link>{}</link>",
        up.url("/links/replication-lag-budgets")
    )));
    assert!(!body.contains("track()"));
    let guids = all_elements(&body, "guid");
    assert_eq!(guids.len(), 5);

    // Repeated requests: 304 by ETag and by date, with the validators repeated.
    let again = http
        .get(daemon.url("/t/distributed-systems.rss"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"], etag.as_str());
    assert!(again.bytes().await.unwrap().is_empty());
    let by_date = http
        .get(daemon.url("/t/distributed-systems.rss"))
        .header("if-modified-since", &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(by_date.status(), StatusCode::NOT_MODIFIED);
    let stale = http
        .get(daemon.url("/t/distributed-systems.rss"))
        .header("if-none-match", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::OK);

    // Atom and JSON Feed carry the same stories under the same ids.
    let atom = get(&daemon.url("/t/distributed-systems.atom")).await;
    assert_eq!(
        atom.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    let atom = atom.text().await.unwrap();
    assert_well_formed(&atom);
    let atom_ids: Vec<String> = all_elements(&atom, "id").into_iter().skip(1).collect();
    assert_eq!(atom_ids, guids);
    let json = get(&daemon.url("/t/distributed-systems.json")).await;
    assert_eq!(
        json.headers()["content-type"],
        "application/feed+json; charset=utf-8"
    );
    let json: serde_json::Value = serde_json::from_slice(&json.bytes().await.unwrap()).unwrap();
    let json_ids: Vec<String> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(json_ids, guids);
    assert_eq!(
        json["feed_url"],
        format!("{}/t/distributed-systems.json", ws.base())
    );

    // Topic limits and source filters apply.
    let rust = get(&daemon.url("/t/rust.rss")).await.text().await.unwrap();
    assert_eq!(rss_titles(&rust), ["Async Closures Land in Stable Rust"]);

    // Index, health and unknown topics.
    let index = get(&daemon.url("/")).await.text().await.unwrap();
    for link in [
        "/t/distributed-systems.rss",
        "/t/distributed-systems.atom",
        "/t/distributed-systems.json",
        "/t/rust\"",
    ] {
        assert!(index.contains(link), "index lacks {link}");
    }
    let health: serde_json::Value = get_json(&daemon.url("/healthz")).await;
    let broken = health["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "broken")
        .unwrap();
    assert_eq!(broken["last_status"], 404);
    assert_eq!(broken["consecutive_failures"], 1);
    assert!(broken["last_error"].as_str().unwrap().contains("404"));
    let missing = get(&daemon.url("/t/no-such-topic.rss")).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        missing.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert!(missing
        .text()
        .await
        .unwrap()
        .contains("unknown topic \"no-such-topic\""));

    daemon.stop_cleanly();

    // A second fetch is conditional (304s) and a restart serves identical bytes and ids.
    let out = ws.fetch_once();
    assert!(
        out.lines()
            .find(|l| l.starts_with("blog "))
            .unwrap()
            .contains("304 unchanged"),
        "{out}"
    );
    let (hits, conditional) = up.hits("/blog.rss");
    assert_eq!((hits, conditional), (2, 1));
    let daemon = ws.serve().await;
    let after = get(&daemon.url("/t/distributed-systems.rss")).await;
    assert_eq!(after.headers()["etag"], etag.as_str());
    let after = after.text().await.unwrap();
    assert_eq!(all_elements(&after, "guid"), guids);
    daemon.stop_cleanly();
}
