//! Push end to end against real local receivers: the feeds name the WebSub hub and their
//! self URL, a visible change reaches the hub as one publish ping per feed URL, a points-only
//! change sends nothing, and a hub answering 500 gets the pings once it recovers. Webhooks:
//! new items arrive as one signed POST of JSON Feed items, are not sent again, survive a
//! failing receiver and a SIGKILL with the same delivery id; a rejected body dropped at once.

use crate::support::config::Value;
use crate::support::{
    config, feed, get_json, get_text, hn, topic, ConfigBuilder, Receiver, Upstream, Workspace,
    HN_FRONT_PAGE,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;
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

/// `/healthz` once `ready` holds of it: the chores record a round after its last answer.
async fn health_when(
    daemon: &crate::support::Daemon,
    ready: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let health = get_json(&daemon.url("/healthz")).await;
        if ready(&health) {
            return health;
        }
        assert!(std::time::Instant::now() < deadline, "{health}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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

    let health = health_when(&daemon, |h| h["hubs"][0]["delivered"] == 3).await;
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
    let blog = up.serve("/blog", "feeds/dist-blog.rss");
    let (_, daemon) = poll_new_source(&ws, hn_topic(&up, &hub), "blog", blog).await;
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
    let health = health_when(&daemon, |h| h["hubs"][0]["failed"] == 1).await;
    let h = &health["hubs"][0];
    assert_eq!(h["last_error"], "HTTP 500", "{health}");
    assert_eq!(h["pending"], 3, "{health}");
    assert_eq!(h["failed"], 1, "{health}");
    assert!(h["next_retry"].is_string(), "{health}");
    hub.fail(false);
    hub.wait_accepted("/hub", 3, WAIT).await;
    assert_eq!(pinged_urls(&hub), pings_for(&ws, "news"));
    let health = health_when(&daemon, |h| h["hubs"][0]["pending"] == 0).await;
    assert_eq!(health["hubs"][0]["delivered"], 3, "{health}");
}

/// The key the webhook tests sign with, in the daemon's environment (inherited).
const KEY_ENV: &str = "FEEDSIFT_IT_WEBHOOK_KEY";
const KEY: &str = "it-webhook-k3y";

fn hn_webhook(up: &Upstream, receiver: &Receiver) -> ConfigBuilder {
    hn_webhook_with(up, receiver, &[])
}

/// `hn_webhook` with more keys in its `[[webhook]]`.
fn hn_webhook_with(up: &Upstream, receiver: &Receiver, more: &[(&str, Value)]) -> ConfigBuilder {
    std::env::set_var(KEY_ENV, KEY);
    let mut keys = vec![
        ("url", Value::from(receiver.url("/hook?token=abc"))),
        ("topics", Value::from(&["news"][..])),
        ("secret_env", Value::from(KEY_ENV)),
    ];
    keys.extend(more.iter().cloned());
    config()
        .source(hn(up.serve("/hn", HN_FRONT_PAGE)))
        .topic(topic("news").sort("recent"))
        .topic(topic("other"))
        .webhook(&keys)
}

/// The body's signature as the receiver checks it: HMAC-SHA256 under the shared key.
fn assert_signed(r: &crate::support::Received) {
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
    mac.update(&r.body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        r.header("x-feedsift-signature"),
        Some(format!("sha256={hex}").as_str())
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
}

fn body(r: &crate::support::Received) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap()
}

fn item_ids(items: &serde_json::Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

/// Adds a source to `config` (new stories for the topics), polls it once with `fetch --once`,
/// and serves again: a later poll, as a receiver sees it. Returns the config and the daemon.
async fn poll_new_source(
    ws: &Workspace,
    config: ConfigBuilder,
    id: &str,
    url: String,
) -> (ConfigBuilder, crate::support::Daemon) {
    let config = config.source(feed(id, url));
    ws.write_config(&config);
    ws.fetch_once();
    (config.clone(), ws.serve().await)
}

#[test]
fn check_names_hubs_and_webhooks_but_not_keys_or_tokens() {
    std::env::set_var(KEY_ENV, KEY);
    let text = config()
        .push("hubs", vec!["http://10.0.0.7:8080/hub".to_string()])
        .topic(topic("news"))
        .webhook(&[
            ("url", Value::from("https://hooks.example/h?token=abc")),
            ("secret_env", Value::from(KEY_ENV)),
        ])
        .to_toml();
    let (ok, out, err) = crate::support::check(&text);
    assert!(ok, "{err}");
    assert!(
        out.contains("  hub    http://10.0.0.7:8080/hub (each topic pings at most every 1m)\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  webhook https://hooks.example/h for all topics, signed with ${KEY_ENV}\n"
        )),
        "{out}"
    );
    assert!(!out.contains(KEY) && !out.contains("token"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_items_reach_the_webhook_once_signed_as_the_json_feed_renders_them() {
    let (up, receiver) = (Upstream::start().await, Receiver::start().await);
    let ws = Workspace::new(&hn_webhook(&up, &receiver));
    let daemon = ws.serve().await;
    let got = receiver.wait_accepted("/hook", 1, WAIT).await;
    let first = &got[0];
    assert_signed(first);
    let delivery = first.header("x-feedsift-delivery").unwrap().to_string();
    assert_eq!(delivery.len(), 32, "{delivery}");
    let sent = body(first);
    assert_eq!(sent["delivery"], delivery.as_str());
    assert_eq!(sent["topic"]["slug"], "news");
    assert_eq!(
        sent["topic"]["feed_urls"]["rss"],
        format!("{}/t/news.rss", ws.base())
    );
    assert_eq!(
        sent["topic"]["feed_urls"]["json"],
        format!("{}/t/news.json", ws.base())
    );
    // The items exactly as the JSON Feed shows them, sightings included.
    let shown = get_json(&daemon.url("/t/news.json")).await;
    assert_eq!(sent["items"], shown["items"]);
    assert!(sent["items"][0]["_feedsift"]["sightings"][0]["site"].is_string());
    let health = health_when(&daemon, |h| h["webhooks"][0]["delivered"] == 1).await;
    let text = health.to_string();
    assert!(!text.contains(KEY) && !text.contains("token=abc"), "{text}");
    let hook = &health["webhooks"][0];
    assert_eq!(hook["url"], receiver.url("/hook"));
    assert_eq!(hook["secret_env"], KEY_ENV);
    assert_eq!(
        (hook["backlog"].as_u64(), hook["delivered"].as_u64()),
        (Some(0), Some(1))
    );
    daemon.stop();

    // Points grew on every story and a blog joined: only the blog's items are new.
    up.serve("/hn", "sites/hn_front_page_2.json");
    let blog = up.serve("/blog", "feeds/dist-blog.rss");
    let (_, daemon) = poll_new_source(&ws, hn_webhook(&up, &receiver), "blog", blog).await;
    let got = receiver.wait_accepted("/hook", 2, WAIT).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.received("/hook").len(), 2, "nothing is sent twice");
    let second = &got[1];
    assert_signed(second);
    assert_ne!(
        second.header("x-feedsift-delivery"),
        Some(delivery.as_str())
    );
    let shown = get_json(&daemon.url("/t/news.json")).await;
    let before = item_ids(&sent["items"]);
    let new: Vec<String> = item_ids(&shown["items"])
        .into_iter()
        .filter(|id| !before.contains(id))
        .collect();
    // Three of the blog's six posts are stories Hacker News had already: not new.
    assert_eq!(new.len(), 3, "{new:?}");
    assert_eq!(item_ids(&body(second)["items"]), new);
    let stderr = daemon.stop_cleanly();
    assert!(!stderr.contains(KEY), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_and_a_sigkill_give_a_redelivery_with_the_same_id_never_a_loss() {
    let (up, receiver) = (Upstream::start().await, Receiver::start().await);
    receiver.fail(true);
    let ws = Workspace::new(&hn_webhook(&up, &receiver));
    let daemon = ws.serve().await;
    let failed = receiver.wait_received("/hook", 1, WAIT).await;
    let id = failed[0].header("x-feedsift-delivery").unwrap().to_string();
    let health = health_when(&daemon, |h| h["webhooks"][0]["failed"] == 1).await;
    let hook = &health["webhooks"][0];
    assert_eq!(hook["backlog"], 1, "{health}");
    assert!(
        hook["last_error"].as_str().unwrap().ends_with("HTTP 500"),
        "{health}"
    );
    let metrics = get_text(&daemon.url("/metrics")).await;
    assert!(
        metrics.contains("feedsift_webhook_backlog{webhook=\""),
        "{metrics}"
    );

    // Killed while the delivery waits unacknowledged: the outbox keeps it, and `status`
    // (reading the store itself) says so.
    std::process::Command::new("kill")
        .args(["-KILL", &daemon.pid().to_string()])
        .status()
        .unwrap();
    drop(daemon);
    let status: serde_json::Value =
        serde_json::from_str(&crate::support::stdout_of(&ws.run(&["status"]))).unwrap();
    assert_eq!(status["webhooks"][0]["backlog"], 1, "{status}");
    assert_eq!(status["webhooks"][0]["id"], hook["id"], "{status}");
    receiver.fail(false);
    let daemon = ws.serve().await;
    let got = receiver.wait_accepted("/hook", 1, WAIT).await;
    assert_eq!(got[0].header("x-feedsift-delivery"), Some(id.as_str()));
    assert_eq!(
        got[0].body, failed[0].body,
        "the same delivery, byte for byte"
    );
    assert_signed(&got[0]);
    assert_eq!(body(&got[0])["items"].as_array().unwrap().len(), 7);
    // Acknowledged once: a restart sends nothing more.
    daemon.stop();
    let daemon = ws.serve().await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        receiver.accepted("/hook").len(),
        1,
        "{:#?}",
        receiver.received("/hook")
    );
    let health = get_json(&daemon.url("/healthz")).await;
    assert_eq!(health["webhooks"][0]["backlog"], 0, "{health}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_down_across_polls_gets_what_it_missed_in_order_and_batched() {
    let (up, receiver) = (Upstream::start().await, Receiver::start().await);
    receiver.fail(true);
    let ws = Workspace::new(&hn_webhook(&up, &receiver));
    let daemon = ws.serve().await;
    receiver.wait_received("/hook", 1, WAIT).await;
    daemon.stop();
    // Two more polls while it is down, each bringing new items.
    let blog = up.serve("/blog", "feeds/dist-blog.rss");
    let (with_blog, daemon) = poll_new_source(&ws, hn_webhook(&up, &receiver), "blog", blog).await;
    receiver.wait_received("/hook", 2, WAIT).await;
    daemon.stop();
    let infra = up.serve("/infra", "feeds/infra-weekly.atom");
    let (_, daemon) = poll_new_source(&ws, with_blog, "infra", infra).await;
    receiver.wait_received("/hook", 3, WAIT).await;
    receiver.fail(false);
    let got = receiver.wait_accepted("/hook", 2, WAIT).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        receiver.accepted("/hook").len(),
        2,
        "two batches, not three"
    );
    // Every attempt before was the first delivery, byte for byte.
    let tried = receiver.received("/hook");
    assert!(tried[..3].iter().all(|r| r.body == got[0].body));
    let first = item_ids(&body(&got[0])["items"]);
    assert_eq!(first.len(), 7);
    let shown = get_json(&daemon.url("/t/news.json")).await;
    let missed: Vec<String> = item_ids(&shown["items"])
        .into_iter()
        .filter(|id| !first.contains(id))
        .collect();
    let second = item_ids(&body(&got[1])["items"]);
    assert!(second.len() > 3, "both polls' new items: {second:?}");
    let (mut second_sorted, mut missed_sorted) = (second.clone(), missed);
    second_sorted.sort();
    missed_sorted.sort();
    assert_eq!(second_sorted, missed_sorted);
    assert_signed(&got[1]);
}

/// The webhook dropped one delivery (counted, backlog empty), saying each of `why` in its
/// last error.
async fn assert_one_dropped(daemon: &crate::support::Daemon, why: &[&str]) {
    let health = health_when(daemon, |h| h["webhooks"][0]["dropped"] == 1).await;
    let hook = &health["webhooks"][0];
    let error = hook["last_error"].as_str().unwrap();
    assert!(why.iter().all(|w| error.contains(w)), "{error}");
    assert_eq!(hook["backlog"], 0, "{health}");
}

/// After `dropped` was dropped, a new source's items go out as a delivery of their own: a
/// new id, none of the dropped body's items. Returns it and the daemon now serving.
async fn next_delivery_after_a_drop(
    ws: &Workspace,
    up: &Upstream,
    receiver: &Receiver,
    config: ConfigBuilder,
    dropped: &crate::support::Received,
) -> (crate::support::Received, crate::support::Daemon) {
    let blog = up.serve("/blog", "feeds/dist-blog.rss");
    let (_, daemon) = poll_new_source(ws, config, "blog", blog).await;
    let got = receiver.wait_accepted("/hook", 1, WAIT).await.remove(0);
    assert_ne!(
        got.header("x-feedsift-delivery"),
        dropped.header("x-feedsift-delivery")
    );
    let (old, new) = (
        item_ids(&body(dropped)["items"]),
        item_ids(&body(&got)["items"]),
    );
    assert!(
        !new.is_empty() && new.iter().all(|id| !old.contains(id)),
        "{old:?} {new:?}"
    );
    (got, daemon)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_the_receiver_rejects_is_dropped_and_the_next_delivery_goes_at_once() {
    let (up, receiver) = (Upstream::start().await, Receiver::start().await);
    receiver.answer_next(422);
    let ws = Workspace::new(&hn_webhook(&up, &receiver));
    let daemon = ws.serve().await;
    let refused = receiver.wait_received("/hook", 1, WAIT).await;
    assert_eq!(refused[0].status, 422);
    assert_one_dropped(&daemon, &["HTTP 422", "dropped"]).await;
    daemon.stop();
    // New items from a poll go out as the next delivery, with no wait for the dropped one.
    let config = hn_webhook(&up, &receiver);
    let (got, daemon) = next_delivery_after_a_drop(&ws, &up, &receiver, config, &refused[0]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let tried = receiver.received("/hook");
    assert_eq!(
        tried.len(),
        2,
        "the refused body is never sent again: {tried:#?}"
    );
    assert_signed(&got);
    let health = health_when(&daemon, |h| h["webhooks"][0]["delivered"] == 1).await;
    assert_eq!(
        health["webhooks"][0]["dropped"], 0,
        "counted since this start: {health}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_still_failing_after_retry_for_is_dropped_and_the_next_one_goes() {
    let (up, receiver) = (Upstream::start().await, Receiver::start().await);
    receiver.fail(true);
    let retry_for = [("retry_for", Value::from("2s"))];
    let ws = Workspace::new(&hn_webhook_with(&up, &receiver, &retry_for));
    let daemon = ws.serve().await;
    // Tried, failed, tried once more at the 2 s deadline (not after the 5 s backoff): dropped.
    let given_up = receiver.wait_received("/hook", 2, WAIT).await;
    let span = given_up[1].at - given_up[0].at;
    assert!(
        span < Duration::from_secs(4),
        "the last try waited {span:?}"
    );
    assert_one_dropped(
        &daemon,
        &["HTTP 500", "given up on after 2s (retry_for), dropped"],
    )
    .await;
    assert_eq!(receiver.received("/hook").len(), 2, "{given_up:#?}");
    let given_up_id = given_up[0]
        .header("x-feedsift-delivery")
        .map(str::to_string);
    assert_eq!(
        given_up[1].header("x-feedsift-delivery"),
        given_up_id.as_deref()
    );
    daemon.stop();
    // The receiver is back: new items go out as a new delivery; the dropped one never again.
    receiver.fail(false);
    let config = hn_webhook_with(&up, &receiver, &retry_for);
    let (_, daemon) = next_delivery_after_a_drop(&ws, &up, &receiver, config, &given_up[0]).await;
    health_when(&daemon, |h| h["webhooks"][0]["delivered"] == 1).await;
    assert_eq!(receiver.received("/hook").len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_reported_without_the_url_token() {
    std::env::set_var(KEY_ENV, KEY);
    let up = Upstream::start().await;
    let closed = crate::support::workspace::free_port();
    let ws = Workspace::new(
        &config()
            .source(hn(up.serve("/hn", HN_FRONT_PAGE)))
            .topic(topic("news"))
            .webhook(&[
                (
                    "url",
                    Value::from(format!("http://127.0.0.1:{closed}/h?token=s3cret")),
                ),
                ("secret_env", Value::from(KEY_ENV)),
            ]),
    );
    let daemon = ws.serve().await;
    let health = health_when(&daemon, |h| h["webhooks"][0]["failed"] == 1).await;
    let hook = &health["webhooks"][0];
    let error = hook["last_error"].as_str().unwrap();
    assert!(error.contains("cannot connect"), "{error}");
    assert_eq!(hook["backlog"], 1);
    let (_, stderr) = daemon.stop();
    for text in [health.to_string(), stderr] {
        assert!(!text.contains("s3cret") && !text.contains(KEY), "{text}");
    }
}
