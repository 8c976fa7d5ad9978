//! The WebSub chore: reads each topic's feed when the store (or the config) changed, hashes
//! what readers see, and pings the `[push]` hubs for the topics whose hash moved, retrying
//! failed pings with backoff; each hub's state goes to `/metrics` and `/healthz`.

use super::periodic::{repeat, Chore};
use super::push_client::PushClient;
use super::{leads, on_store, Running};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::push::digest::{visible_digest, Digest};
use crate::push::websub::Publisher;
use crate::push::{feed_urls, ping};
use crate::store::{Store, StoreError};
use crate::topics::items::shown_items;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// How often due pings are looked at; feeds are read again only when the store or the
/// config changed, or `REREAD` passed (items leave windows with time alone).
const EVERY: Duration = Duration::from_secs(1);
const REREAD: chrono::Duration = chrono::Duration::seconds(30);
/// The first round waits for the topic indexes to file what is stored.
const FIRST: Duration = Duration::from_secs(2);

pub(super) async fn run(running: Running, metrics: Arc<Metrics>) {
    let stop = running.stop.clone();
    let chore = Websub {
        running,
        metrics,
        publisher: Publisher::default(),
        last_read: None,
        client: PushClient::default(),
    };
    repeat(stop, FIRST, chore).await;
}

struct Websub {
    running: Running,
    metrics: Arc<Metrics>,
    publisher: Publisher,
    /// The config and store generation the feeds were last read at, and when.
    last_read: Option<(Arc<Config>, u64, DateTime<Utc>)>,
    client: PushClient,
}

/// One topic's feed as read now.
struct Read {
    slug: String,
    /// The stored announced digest, for topics the publisher has not loaded yet.
    stored: Option<Option<Digest>>,
    digest: Digest,
    empty: bool,
}

impl Chore for Websub {
    async fn round(&mut self) -> Duration {
        let config = self.running.config();
        if config.push.hubs.is_empty() {
            self.metrics.set_hubs(Vec::new());
            return EVERY * 5;
        }
        // On a shared database one node does this, so readers hear of a change once.
        if !leads(&self.running.store, "websub").await {
            return EVERY;
        }
        self.publisher.set_hubs(&config.push.hubs);
        let now = Utc::now();
        if self.due_to_read(&config, now) {
            self.read(&config, now).await;
        }
        self.publisher.schedule(now, config.push.min_interval);
        self.deliver(&config, now).await;
        let settled = self.publisher.settle();
        self.remember(settled, "what the WebSub hubs were told")
            .await;
        self.metrics.set_hubs(self.publisher.health());
        EVERY
    }
}

impl Websub {
    /// Stores per topic the digest the hubs know of, so a restart pings for what changed
    /// meanwhile and nothing else; `what` names them in the warning when that fails.
    async fn remember(&self, digests: Vec<(String, Digest)>, what: &'static str) {
        if digests.is_empty() {
            return;
        }
        let written = on_store(&self.running.store, move |store| {
            digests
                .iter()
                .try_for_each(|(slug, d)| store.put_announced_digest(slug, d))
        })
        .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, "{what} not stored; a restart may ping again");
        }
    }

    fn due_to_read(&self, config: &Arc<Config>, now: DateTime<Utc>) -> bool {
        match &self.last_read {
            None => true,
            Some((read_config, generation, at)) => {
                !Arc::ptr_eq(read_config, config)
                    || *generation != self.running.store.generation()
                    || now - *at >= REREAD
            }
        }
    }

    async fn read(&mut self, config: &Arc<Config>, now: DateTime<Utc>) {
        let generation = self.running.store.generation();
        let unknown: Vec<String> = config
            .topics
            .iter()
            .filter(|t| !self.publisher.knows(&t.slug))
            .map(|t| t.slug.clone())
            .collect();
        let read_config = Arc::clone(config);
        let read = on_store(&self.running.store, move |store| {
            read_feeds(&read_config, store, &unknown, now)
        })
        .await;
        let reads = match read {
            Ok(reads) => reads,
            Err(e) => {
                tracing::warn!(error = %e, "feeds not read for WebSub; trying again");
                return;
            }
        };
        let mut first_seen = Vec::new();
        for r in reads {
            if let Some(stored) = r.stored {
                self.publisher.load(&r.slug, stored);
            }
            let urls = feed_urls(&config.server.base_url, &r.slug);
            if let Some(d) = self.publisher.observe(&r.slug, r.digest, r.empty, urls) {
                first_seen.push((r.slug, d));
            }
        }
        self.remember(first_seen, "new topics' WebSub digests")
            .await;
        self.last_read = Some((Arc::clone(config), generation, now));
    }

    /// Pings what is due at each hub, in order; a hub's first failure ends its turn.
    async fn deliver(&mut self, config: &Arc<Config>, now: DateTime<Utc>) {
        let due = self.publisher.due(now);
        if due.is_empty() {
            return;
        }
        let Some(fetcher) = self.client.for_config(config) else {
            return;
        };
        for (hub, feeds) in due {
            for feed in feeds {
                match ping(&fetcher, &hub, &feed).await {
                    Ok(()) => self.publisher.delivered(&hub, &feed, Utc::now()),
                    Err(e) => {
                        tracing::warn!(hub = %hub, feed = %feed, error = %e, "WebSub ping failed; will retry");
                        self.publisher.failed(&hub, e.to_string(), Utc::now());
                        break;
                    }
                }
            }
        }
    }
}

/// Every topic's visible digest at `now`, with the stored announced digest of `unknown` ones.
fn read_feeds(
    config: &Config,
    store: &Store,
    unknown: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<Read>, StoreError> {
    let mut out = Vec::with_capacity(config.topics.len());
    for topic in &config.topics {
        let stories = shown_items(store, topic, topic, now)?;
        let stored = if unknown.contains(&topic.slug) {
            Some(store.announced_digest(&topic.slug)?)
        } else {
            None
        };
        out.push(Read {
            slug: topic.slug.clone(),
            stored,
            digest: visible_digest(&stories, topic.full_content),
            empty: stories.is_empty(),
        });
    }
    Ok(out)
}
