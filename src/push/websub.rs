//! WebSub publishing as a state machine the daemon's chore drives: per topic, the digest the
//! hubs were last told of and the one queued; per hub, the feed URLs still to ping, with
//! backoff after failures. Pure: the chore passes the clock and does the HTTP.

use super::backoff::Attempts;
use super::digest::Digest;
use crate::metrics::HubHealth;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use url::Url;

/// First wait after a failed ping, and the longest: a hub down for a day is still retried
/// every half hour.
const RETRY_FIRST: Duration = Duration::from_secs(5);
const RETRY_CAP: Duration = Duration::from_secs(30 * 60);

#[derive(Default)]
pub(crate) struct Publisher {
    topics: HashMap<String, TopicPush>,
    hubs: BTreeMap<String, HubQueue>,
}

#[derive(Default)]
struct TopicPush {
    /// The digest every hub has been told of (persisted in the store).
    announced: Option<Digest>,
    /// The digest whose pings are queued and not yet delivered to every hub.
    queued: Option<Digest>,
    queued_at: Option<DateTime<Utc>>,
    /// The digest of the feed as last read, and its feed URLs then.
    seen: Option<Digest>,
    feed_urls: Vec<String>,
}

struct HubQueue {
    url: Url,
    /// (topic slug, feed URL) to ping, oldest first; a URL is in it once.
    pending: Vec<(String, String)>,
    attempts: Attempts,
}

impl HubQueue {
    fn new(url: Url) -> HubQueue {
        HubQueue {
            url,
            pending: Vec::new(),
            attempts: Attempts::default(),
        }
    }
}

impl Publisher {
    /// The hubs of the running config: new ones start empty, removed ones are forgotten with
    /// their pending pings.
    pub(crate) fn set_hubs(&mut self, hubs: &[Url]) {
        self.hubs
            .retain(|key, _| hubs.iter().any(|h| h.as_str() == key));
        for hub in hubs {
            self.hubs
                .entry(hub.to_string())
                .or_insert_with(|| HubQueue::new(hub.clone()));
        }
    }

    /// Whether `slug`'s announced digest was loaded (see `load`).
    pub(crate) fn knows(&self, slug: &str) -> bool {
        self.topics.contains_key(slug)
    }

    /// What the store says the hubs were last told of `slug`.
    pub(crate) fn load(&mut self, slug: &str, announced: Option<Digest>) {
        self.topics.entry(slug.to_string()).or_default().announced = announced;
    }

    /// The feed of `slug` as read now. Returns a digest to persist when there is nothing to
    /// tell: a topic never announced whose feed is empty.
    pub(crate) fn observe(
        &mut self,
        slug: &str,
        digest: Digest,
        empty: bool,
        feed_urls: Vec<String>,
    ) -> Option<Digest> {
        let topic = self.topics.entry(slug.to_string()).or_default();
        topic.seen = Some(digest);
        topic.feed_urls = feed_urls;
        if topic.announced.is_none() && topic.queued.is_none() && empty {
            topic.announced = Some(digest);
            return Some(digest);
        }
        None
    }

    /// Queues a ping of every feed URL at every hub for each topic whose feed differs from
    /// what the hubs were told (or are being told), unless it was queued within
    /// `min_interval`: that change waits for the interval to pass.
    pub(crate) fn schedule(&mut self, now: DateTime<Utc>, min_interval: Duration) {
        let interval = chrono::Duration::from_std(min_interval).unwrap_or(chrono::Duration::MAX);
        for (slug, topic) in &mut self.topics {
            let Some(seen) = topic.seen else { continue };
            if topic.queued.or(topic.announced) == Some(seen) {
                continue;
            }
            if topic.queued_at.is_some_and(|at| now < at + interval) {
                continue;
            }
            for hub in self.hubs.values_mut() {
                for url in &topic.feed_urls {
                    if !hub.pending.iter().any(|(_, u)| u == url) {
                        hub.pending.push((slug.clone(), url.clone()));
                    }
                }
            }
            topic.queued = Some(seen);
            topic.queued_at = Some(now);
        }
    }

    /// Per hub due at `now`: its URL and the feed URLs to ping, oldest first.
    pub(crate) fn due(&self, now: DateTime<Utc>) -> Vec<(Url, Vec<String>)> {
        self.hubs
            .values()
            .filter(|h| !h.pending.is_empty() && h.attempts.due(now))
            .map(|h| {
                let urls = h.pending.iter().map(|(_, u)| u.clone()).collect();
                (h.url.clone(), urls)
            })
            .collect()
    }

    pub(crate) fn delivered(&mut self, hub: &Url, feed_url: &str, now: DateTime<Utc>) {
        if let Some(h) = self.hubs.get_mut(hub.as_str()) {
            h.pending.retain(|(_, u)| u != feed_url);
            h.attempts.succeeded(now);
        }
    }

    /// A ping to `hub` failed: it waits longer after each failure in a row.
    pub(crate) fn failed(&mut self, hub: &Url, error: String, now: DateTime<Utc>) {
        if let Some(h) = self.hubs.get_mut(hub.as_str()) {
            h.attempts.failed(error, now, RETRY_FIRST, RETRY_CAP);
        }
    }

    /// Topics whose queued pings every hub has taken: their digest is now the announced one.
    /// Returns them, to persist.
    pub(crate) fn settle(&mut self) -> Vec<(String, Digest)> {
        let mut settled = Vec::new();
        for (slug, topic) in &mut self.topics {
            let waiting = self
                .hubs
                .values()
                .any(|h| h.pending.iter().any(|(s, _)| s == slug));
            if let (false, Some(queued)) = (waiting, topic.queued) {
                topic.announced = Some(queued);
                topic.queued = None;
                settled.push((slug.clone(), queued));
            }
        }
        settled
    }

    /// Each hub's deliveries, last error and backlog, sorted by URL.
    pub(crate) fn health(&self) -> Vec<HubHealth> {
        self.hubs
            .values()
            .map(|h| HubHealth {
                delivered: h.attempts.delivered,
                failed: h.attempts.failed,
                last_delivery: h.attempts.last_delivery,
                last_error: h.attempts.last_error.clone(),
                next_retry: h.attempts.next_try,
                pending: h.pending.len(),
                url: h.url.to_string(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const MINUTE: Duration = Duration::from_secs(60);

    fn urls(slug: &str) -> Vec<String> {
        ["rss", "atom", "json"]
            .iter()
            .map(|ext| format!("http://feeds.example/t/{slug}.{ext}"))
            .collect()
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap() + chrono::Duration::seconds(secs)
    }

    fn hub(url: &str) -> Url {
        Url::parse(url).unwrap()
    }

    fn deliver_all(p: &mut Publisher, now: DateTime<Utc>) -> usize {
        let mut sent = 0;
        for (hub, feeds) in p.due(now) {
            for feed in feeds {
                p.delivered(&hub, &feed, now);
                sent += 1;
            }
        }
        sent
    }

    #[test]
    fn a_change_pings_every_feed_url_at_every_hub_once_per_interval() {
        let mut p = Publisher::default();
        p.set_hubs(&[hub("http://a.example/"), hub("http://b.example/")]);
        p.load("ds", None);
        // Never announced and empty: nothing to tell, recorded as announced.
        assert_eq!(p.observe("ds", [0; 32], true, urls("ds")), Some([0; 32]));
        p.schedule(at(0), MINUTE);
        assert!(p.due(at(0)).is_empty());
        // A new item: three pings at each hub.
        p.observe("ds", [1; 32], false, urls("ds"));
        p.schedule(at(1), MINUTE);
        let due = p.due(at(1));
        assert_eq!(due.len(), 2);
        assert_eq!(due[0].1, urls("ds"));
        assert_eq!(deliver_all(&mut p, at(1)), 6);
        assert_eq!(p.settle(), [("ds".to_string(), [1; 32])]);
        // The same feed again: nothing.
        p.observe("ds", [1; 32], false, urls("ds"));
        p.schedule(at(2), MINUTE);
        assert!(p.due(at(2)).is_empty());
        // Another change within the minute waits for it, then goes once.
        p.observe("ds", [2; 32], false, urls("ds"));
        p.schedule(at(30), MINUTE);
        assert!(p.due(at(30)).is_empty());
        p.observe("ds", [3; 32], false, urls("ds"));
        p.schedule(at(61), MINUTE);
        assert_eq!(deliver_all(&mut p, at(61)), 6);
        assert_eq!(p.settle(), [("ds".to_string(), [3; 32])]);
        // A change and its undoing within the interval are no change at all.
        p.observe("ds", [4; 32], false, urls("ds"));
        p.observe("ds", [3; 32], false, urls("ds"));
        p.schedule(at(200), MINUTE);
        assert!(p.due(at(200)).is_empty());
        let health = p.health();
        assert_eq!(health[0].delivered, 6);
        assert_eq!(health[0].pending, 0);
        assert_eq!(health[0].last_delivery, Some(at(61)));
    }

    #[test]
    fn a_failing_hub_is_retried_with_backoff_and_holds_the_announcement() {
        let mut p = Publisher::default();
        let (good, bad) = (hub("http://good.example/"), hub("http://bad.example/"));
        p.set_hubs(&[good.clone(), bad.clone()]);
        p.load("ds", Some([1; 32]));
        p.observe("ds", [2; 32], false, urls("ds"));
        p.schedule(at(0), MINUTE);
        for (h, feeds) in p.due(at(0)) {
            if h == good {
                feeds.iter().for_each(|f| p.delivered(&h, f, at(0)));
            } else {
                p.failed(&h, "HTTP 500".into(), at(0));
            }
        }
        assert!(p.settle().is_empty(), "one hub still waits");
        let bad_health = p
            .health()
            .into_iter()
            .find(|h| h.url == bad.as_str())
            .unwrap();
        assert_eq!(bad_health.pending, 3);
        assert_eq!(bad_health.last_error.as_deref(), Some("HTTP 500"));
        assert_eq!(bad_health.next_retry, Some(at(5)));
        assert!(p.due(at(4)).is_empty());
        p.failed(&bad, "HTTP 500".into(), at(5));
        assert!(
            p.due(at(14)).is_empty(),
            "the second wait is twice the first"
        );
        let due = p.due(at(15));
        assert_eq!(due, [(bad.clone(), urls("ds"))]);
        deliver_all(&mut p, at(15));
        assert_eq!(p.settle(), [("ds".to_string(), [2; 32])]);
        let bad_health = p
            .health()
            .into_iter()
            .find(|h| h.url == bad.as_str())
            .unwrap();
        assert_eq!((bad_health.pending, bad_health.failed), (0, 2));
        assert_eq!(bad_health.next_retry, None);
    }
}
