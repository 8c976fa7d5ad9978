//! Push end to end against real local receivers: the feeds name the WebSub hub and their
//! self URL, a visible change reaches the hub as one publish ping per feed URL, a points-only
//! change sends nothing, and a hub answering 500 gets the pings once it recovers.

use crate::support::{
    config, feed, get_json, get_text, hn, topic, ConfigBuilder, Receiver, Upstream, Workspace,
    HN_FRONT_PAGE,
};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn form(body: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The three publish pings the hub must get for topic `slug` of `ws`, in any order.
fn pings_for(ws: &Workspace, slug: &str) -> Vec<String> {
    let mut urls: Vec<String> = ["rss", "atom", "json"]
        .iter()
        .map(|ext| format!("{}/t/{slug}.{ext}", ws.base()))
        .collect();
    urls.sort();
    urls
}

fn pinged_urls(hub: &Receiver) -> Vec<String> {
    let mut urls: Vec<String> = hub
        .accepted("/hub")
        .iter()
        .map(|r| {
            assert_eq!(
                r.header("content-type"),
                Some("application/x-www-form-urlencoded")
            );
            let fields = form(&r.text());
            assert_eq!(
                fields[0],
                ("hub.mode".into(), "publish".into()),
                "{fields:?}"
            );
            assert_eq!(fields[1].0, "hub.url");
            fields[1].1.clone()
        })
        .collect();
    urls.sort();
    urls
}

fn hn_topic(up: &Upstream, hub: &Receiver) -> ConfigBuilder {
    config()
        .push("hubs", vec![hub.url("/hub")])
        .push("min_interval", "1s")
        .source(hn(up.serve("/hn", HN_FRONT_PAGE)))
        // Newest first: points do not move the ranking.
        .topic(topic("news").sort("recent"))
}

#[tokio::test]
async fn feeds_name_the_hub_and_their_self_url_and_the_first_items_ping_it() {
    let (up, hub) = (Upstream::start().await, Receiver::start().await);
    let ws = Workspace::new(&hn_topic(&up, &hub));
    let daemon = ws.serve().await;
    let hub_url = hub.url("/hub");
    let base = ws.base();

    let rss = get_text(&daemon.url("/t/news.rss")).await;
    assert!(
        rss.contains(&format!(
            "<atom:link href=\"{base}/t/news.rss\" rel=\"self\" type=\"application/rss+xml\"/>"
        )),
        "{rss}"
    );
    assert!(
        rss.contains(&format!("<atom:link href=\"{hub_url}\" rel=\"hub\"/>")),
        "{rss}"
    );
    let atom = get_text(&daemon.url("/t/news.atom")).await;
    assert!(
        atom.contains(&format!(
            "<link href=\"{base}/t/news.atom\" rel=\"self\" type=\"application/atom+xml\"/>"
        )),
        "{atom}"
    );
    assert!(
        atom.contains(&format!("<link href=\"{hub_url}\" rel=\"hub\"/>")),
        "{atom}"
    );
    let json = get_json(&daemon.url("/t/news.json")).await;
    assert_eq!(json["feed_url"], format!("{base}/t/news.json"));
    assert_eq!(
        json["hubs"],
        serde_json::json!([{ "type": "WebSub", "url": hub_url }])
    );
    // A narrowed feed is no URL the hub hears of, so it names no hub.
    let narrowed = get_text(&daemon.url("/t/news.rss?limit=2")).await;
    assert!(!narrowed.contains("rel=\"hub\""), "{narrowed}");

    // The first poll's stories: one ping per feed URL, and no more.
    hub.wait_accepted("/hub", 3, WAIT).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(pinged_urls(&hub), pings_for(&ws, "news"));

    let health = get_json(&daemon.url("/healthz")).await;
    let h = &health["hubs"][0];
    assert_eq!(h["url"], hub_url);
    assert_eq!(
        (h["delivered"].as_u64(), h["pending"].as_u64()),
        (Some(3), Some(0))
    );
    assert!(h["last_delivery"].is_string(), "{health}");
    assert!(h["last_error"].is_null(), "{health}");
    let metrics = get_text(&daemon.url("/metrics")).await;
    assert!(
        metrics.contains(&format!(
            "feedsift_websub_pings_total{{hub=\"{hub_url}\",outcome=\"delivered\"}} 3\n"
        )),
        "{metrics}"
    );
    assert!(metrics.contains(&format!("feedsift_websub_pending{{hub=\"{hub_url}\"}} 0\n")));
}

// Blocking calls (`fetch --once`, `stop`) must leave the upstream a thread to answer on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn points_moving_send_nothing_and_a_new_item_pings_once_per_feed_url() {
    let (up, hub) = (Upstream::start().await, Receiver::start().await);
    let ws = Workspace::new(&hn_topic(&up, &hub));
    let daemon = ws.serve().await;
    hub.wait_accepted("/hub", 3, WAIT).await;
    daemon.stop();

    // A re-poll where only points grew: the feed shows them, the hub hears nothing.
    up.serve("/hn", "sites/hn_front_page_2.json");
    ws.fetch_once();
    let daemon = ws.serve().await;
    let rss = get_text(&daemon.url("/t/news.rss")).await;
    assert!(rss.contains("Hacker News</a> 310 pts"), "{rss}");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(hub.received("/hub").len(), 3, "{:#?}", hub.received("/hub"));
    daemon.stop();

    // A new item (another source's stories enter the feed): three more pings.
    let with_blog =
        hn_topic(&up, &hub).source(feed("blog", up.serve("/blog", "feeds/dist-blog.rss")));
    ws.write_config(&with_blog);
    ws.fetch_once();
    let daemon = ws.serve().await;
    let rss = get_text(&daemon.url("/t/news.rss")).await;
    assert!(rss.contains("Our Office Plants, Ranked"), "{rss}");
    hub.wait_accepted("/hub", 6, WAIT).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let urls = pinged_urls(&hub);
    assert_eq!(urls.len(), 6, "{urls:?}");
    let mut twice: Vec<String> = pings_for(&ws, "news")
        .into_iter()
        .flat_map(|u| [u.clone(), u])
        .collect();
    twice.sort();
    assert_eq!(urls, twice);
    drop(daemon);
}

#[tokio::test]
async fn a_hub_answering_500_gets_the_pings_once_it_recovers() {
    let (up, hub) = (Upstream::start().await, Receiver::start().await);
    hub.fail(true);
    let ws = Workspace::new(&hn_topic(&up, &hub));
    let daemon = ws.serve().await;
    hub.wait_received("/hub", 1, WAIT).await;
    // The failure is shown while the pings wait.
    let health = get_json(&daemon.url("/healthz")).await;
    let h = &health["hubs"][0];
    assert_eq!(h["last_error"], "HTTP 500", "{health}");
    assert_eq!(h["pending"], 3, "{health}");
    assert_eq!(h["failed"], 1, "{health}");
    assert!(h["next_retry"].is_string(), "{health}");
    hub.fail(false);
    hub.wait_accepted("/hub", 3, WAIT).await;
    assert_eq!(pinged_urls(&hub), pings_for(&ws, "news"));
    let health = get_json(&daemon.url("/healthz")).await;
    assert_eq!(health["hubs"][0]["pending"], 0, "{health}");
}
