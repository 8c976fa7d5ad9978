//! Article summaries: link posts that carry no text get a summary from their article page
//! (main text, not the navigation, ads or comments around it), else from the page's own
//! description, else the title; each article is fetched once; failures are retried later
//! while the item is served.

use crate::support::{config, get_json, hn, topic, Upstream, Workspace};

fn listing(up: &Upstream) -> Vec<u8> {
    let hit = |id: u32, title: &str, url: String, points: u32| {
        format!(
            r#"{{"objectID":"{id}","title":"{title}","url":"{url}","points":{points},"num_comments":3,"created_at_i":1795000000,"author":"someone","story_text":null}}"#
        )
    };
    format!(
        r#"{{"hits":[{},{},{},{}],"nbHits":4}}"#,
        hit(
            1,
            "How a consensus bug took down our cluster",
            up.url("/posts/consensus-outage"),
            300
        ),
        hit(
            2,
            "A quorum calculator for replication",
            up.url("/tools/quorum"),
            200
        ),
        hit(
            3,
            "Raft paper annotated (PDF)",
            up.url("/papers/raft.pdf"),
            150
        ),
        hit(4, "Replication gone wrong", up.url("/posts/gone"), 120),
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_posts_get_summaries_from_their_articles() {
    let up = Upstream::start().await;
    let hn_url = up.serve_bytes("/hn", listing(&up));
    up.serve("/posts/consensus-outage", "articles/consensus-outage.html");
    up.serve("/tools/quorum", "articles/described-only.html");
    up.serve_bytes("/papers/raft.pdf", b"%PDF-1.4 not html".to_vec());
    up.fail("/posts/gone", 503);
    let ws = Workspace::new(
        &config()
            .default_key("allow_private_networks", true)
            .source(hn(hn_url))
            .topic(
                topic("ds")
                    .title("Distributed Systems")
                    .article_summaries()
                    .keywords(&[
                        ("consensus", 1),
                        ("raft", 1),
                        ("quorum", 1),
                        ("replication", 1),
                    ]),
            )
            .topic(topic("plain").title("Feed text only")),
    );
    let out = ws.fetch_once();
    assert!(
        out.contains("articles                 3 summarized, 1 failed (retried later)"),
        "{out}"
    );

    let daemon = ws.serve().await;
    let json: serde_json::Value = get_json(&daemon.url("/t/ds.json")).await;
    let summary = |title: &str| -> Option<String> {
        let item = json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["title"] == title)
            .unwrap();
        item["summary"].as_str().map(String::from)
    };
    let outage = summary("How a consensus bug took down our cluster").unwrap();
    eprintln!("article summary: {outage}");
    assert!(
        outage.starts_with("On March 2 our five-node Raft cluster lost its leader"),
        "{outage}"
    );
    assert!(outage.split_whitespace().count() <= 60, "{outage}");
    for chrome in [
        "Careers",
        "credit card",
        "Popular posts",
        "Great write-up",
        "hybrid logical clock",
        "Copyright",
        "By Dana",
    ] {
        assert!(!outage.contains(chrome), "{chrome} leaked into: {outage}");
    }
    assert_eq!(
        summary("A quorum calculator for replication").unwrap(),
        "An interactive calculator for quorum sizes in replicated systems. Pick the number of replicas and failures to tolerate."
    );
    assert_eq!(
        summary("Raft paper annotated (PDF)").unwrap(),
        "Raft paper annotated (PDF)"
    );
    // The failed one is served meanwhile, with its sources and no summary yet.
    let gone = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"] == "Replication gone wrong")
        .unwrap();
    assert!(gone.get("summary").is_none());
    assert!(gone["content_text"]
        .as_str()
        .unwrap()
        .starts_with("Sources: Hacker News 120 pts"));
    daemon.stop_cleanly();

    // A second run fetches no article twice, and the failed one waits for its backoff.
    let before = (
        up.hits("/posts/consensus-outage").0,
        up.hits("/posts/gone").0,
    );
    ws.fetch_once();
    assert_eq!(
        (
            up.hits("/posts/consensus-outage").0,
            up.hits("/posts/gone").0
        ),
        before
    );
    assert_eq!(before, (1, 1));
}
