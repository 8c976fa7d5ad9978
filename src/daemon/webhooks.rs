//! The webhook chore: when the store (or the config) changed, queues the items new to each
//! webhook's topics in the store's outbox (joining a batch not yet tried, with the ids it
//! carries, before anything is sent), then sends each webhook's outbox oldest first, removing
//! a delivery only after a 2xx; failures back off, and one still failing `retry_for` after it
//! was made is dropped. A delivery whose body the receiver rejects (400, 413, 415, 422) is
//! dropped at once, so one body it cannot take does not hold back the ones after it.

use super::periodic::{repeat, Chore};
use super::push_client::PushClient;
use super::{leads, on_store, Running};
use crate::config::units::format_duration;
use crate::config::{Config, WebhookConfig};
use crate::fetch::{FetchError, Fetcher};
use crate::metrics::{Metrics, WebhookHealth};
use crate::model::{Story, StoryId};
use crate::push::backoff::Attempts;
use crate::push::feed_urls;
use crate::push::webhook::{body, delivery_id, signature};
use crate::render::jsonfeed;
use crate::store::{Delivery, Store, StoreError};
use crate::topics::items::shown_items;
use chrono::{DateTime, Utc};
use reqwest::header::HeaderName;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

const EVERY: Duration = Duration::from_secs(1);
/// Waits after failures in a row: from 5 s, doubling, at most 10 minutes.
const RETRY_FIRST: Duration = Duration::from_secs(5);
const RETRY_CAP: Duration = Duration::from_secs(600);
/// Deliveries sent to one webhook per round: a long backlog does not starve the others.
const PER_ROUND: usize = 50;
/// The first round waits for the topic indexes to file what is stored.
const FIRST: Duration = Duration::from_secs(2);

const DELIVERY_HEADER: HeaderName = HeaderName::from_static("x-feedsift-delivery");
const SIGNATURE_HEADER: HeaderName = HeaderName::from_static("x-feedsift-signature");

pub(super) async fn run(running: Running, metrics: Arc<Metrics>) {
    let stop = running.stop.clone();
    let chore = Webhooks {
        running,
        metrics,
        last_read: None,
        hooks: HashMap::new(),
        client: PushClient::default(),
    };
    repeat(stop, FIRST, chore).await;
}

struct Webhooks {
    running: Running,
    metrics: Arc<Metrics>,
    /// The config and store generation the feeds were last read at.
    last_read: Option<(Arc<Config>, u64)>,
    /// Per webhook key: what this process saw of its deliveries.
    hooks: HashMap<String, HookState>,
    client: PushClient,
}

#[derive(Default)]
struct HookState {
    attempts: Attempts,
    /// Deliveries given up on.
    dropped: u64,
}

impl Chore for Webhooks {
    async fn round(&mut self) -> Duration {
        let config = self.running.config();
        if config.webhooks.is_empty() {
            self.metrics.set_webhooks(Vec::new());
            return EVERY * 5;
        }
        // On a shared database one node does this, so readers hear of a change once.
        if !leads(&self.running.store, "webhooks").await {
            return EVERY;
        }
        let generation = self.running.store.generation();
        let changed = self
            .last_read
            .as_ref()
            .is_none_or(|(c, g)| !Arc::ptr_eq(c, &config) || *g != generation);
        if changed {
            let read = Arc::clone(&config);
            let now = Utc::now();
            match on_store(&self.running.store, move |s| fill_outbox(&read, s, now)).await {
                Ok(_) => self.last_read = Some((Arc::clone(&config), generation)),
                Err(e) => tracing::warn!(error = %e, "webhook deliveries not queued; trying again"),
            }
        }
        if let Some(fetcher) = self.client.for_config(&config) {
            for hook in &config.webhooks {
                self.deliver(hook, &fetcher).await;
            }
        }
        let mut health = Vec::new();
        for hook in &config.webhooks {
            let key = hook.key();
            let backlog = on_store(&self.running.store, {
                let key = key.clone();
                move |s| Ok(s.outbox_len(&key))
            })
            .await
            .unwrap_or_default();
            let state = self.hooks.entry(key.clone()).or_default();
            let a = &state.attempts;
            health.push(WebhookHealth {
                backlog,
                delivered: a.delivered,
                dropped: state.dropped,
                failed: a.failed,
                id: key,
                last_delivery: a.last_delivery,
                last_error: a.last_error.clone(),
                next_retry: a.next_try,
                secret_env: hook.secret_env.clone(),
                topics: hook.topics.clone(),
                url: hook.shown_url(),
            });
        }
        self.metrics.set_webhooks(health);
        EVERY
    }
}

impl Webhooks {
    /// Sends `hook`'s outbox in order until it is empty, a delivery fails, or `PER_ROUND`.
    async fn deliver(&mut self, hook: &WebhookConfig, fetcher: &Fetcher) {
        let key = hook.key();
        let store = self.running.store.clone();
        let state = self.hooks.entry(key.clone()).or_default();
        if !state.attempts.due(Utc::now()) {
            return;
        }
        for _ in 0..PER_ROUND {
            let next = on_store(&store, {
                let key = key.clone();
                move |s| s.next_delivery(&key)
            })
            .await;
            let (outbox_key, delivery) = match next {
                Ok(Some(next)) => next,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook outbox not readable");
                    return;
                }
            };
            // Marked before it leaves: from then on it is never grown, so its id always
            // names the same items.
            if !delivery.attempted {
                let (at, marked) = (outbox_key.clone(), delivery.clone());
                if let Err(e) = on_store(&store, move |s| s.mark_attempted(&at, &marked)).await {
                    tracing::warn!(error = %e, "webhook delivery not marked as sent; not sending");
                    return;
                }
            }
            let mut headers = vec![(DELIVERY_HEADER, delivery.id.clone())];
            if let Some(secret) = &hook.secret {
                headers.push((
                    SIGNATURE_HEADER,
                    signature(secret, delivery.body.as_bytes()),
                ));
            }
            let sent = fetcher
                .post(
                    &hook.url,
                    "application/json",
                    &headers,
                    delivery.body.clone().into_bytes(),
                )
                .await;
            let now = Utc::now();
            let why_dropped = match sent {
                Ok(_) => {
                    if let Err(e) = on_store(&store, move |s| s.remove_delivery(&outbox_key)).await
                    {
                        // It stays queued: sent again, under the same id, which receivers
                        // de-duplicate on.
                        tracing::warn!(error = %e, "acknowledged webhook delivery not removed");
                        return;
                    }
                    state.attempts.succeeded(now);
                    continue;
                }
                Err(e) if rejects_the_body(&e) => {
                    format!(
                        "delivery {}: {e}; refused by the receiver, dropped",
                        delivery.id
                    )
                }
                Err(e) => {
                    let error = format!("delivery {}: {e}", delivery.id);
                    let deadline = give_up_at(&delivery, hook.retry_for);
                    if now < deadline {
                        tracing::warn!(webhook = %hook.shown_url(), error = %error, "webhook delivery failed; will retry");
                        state.attempts.failed(error, now, RETRY_FIRST, RETRY_CAP);
                        // The last try is at the deadline, not up to a whole backoff after it.
                        state.attempts.no_later_than(deadline);
                        return;
                    }
                    format!(
                        "{error}; given up on after {} (retry_for), dropped",
                        format_duration(hook.retry_for)
                    )
                }
            };
            tracing::warn!(webhook = %hook.shown_url(), error = %why_dropped, "webhook delivery dropped");
            if let Err(e) = on_store(&store, move |s| s.remove_delivery(&outbox_key)).await {
                // Still first in the outbox: tried again after a wait, and dropped then.
                tracing::warn!(error = %e, "dropped webhook delivery not removed");
                state
                    .attempts
                    .failed(why_dropped, now, RETRY_FIRST, RETRY_CAP);
                return;
            }
            // The next delivery is another body, and goes now.
            state.dropped += 1;
            state.attempts.dropped(why_dropped);
        }
    }
}

/// The receiver answered that this body is wrong for it, so sending it again cannot help.
/// Answers about the endpoint or the moment (401, 403, 404, 408, 429, 5xx, ...) are retried:
/// a URL or key being fixed, or a receiver coming back, must not lose what waited.
fn rejects_the_body(error: &FetchError) -> bool {
    matches!(error.status(), Some(400 | 413 | 415 | 422))
}

/// When a delivery still failing is given up on: `retry_for` (a day by default) after it was
/// made (or last grew, before its first try). Its receiver is gone, or refuses it for good.
fn give_up_at(delivery: &Delivery, retry_for: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(retry_for)
        .ok()
        .and_then(|limit| delivery.created.checked_add_signed(limit))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Most items one delivery carries: a long outage is sent in bodies of bounded size.
const MAX_BATCH: usize = 200;

/// Queues, for every webhook and topic it hears of, the items in the feed it was never sent
/// (in feed order): added to the webhook's last delivery while that one is of the same topic
/// and was never tried (so a receiver that is down gets what it missed in a few batches),
/// else as a new delivery. Returns the deliveries written.
fn fill_outbox(config: &Config, store: &Store, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut written = 0;
    for topic in &config.topics {
        let hooks: Vec<&WebhookConfig> = config
            .webhooks
            .iter()
            .filter(|w| w.hears(&topic.slug))
            .collect();
        if hooks.is_empty() {
            continue;
        }
        let stories = shown_items(store, topic, topic, now)?;
        let ids: Vec<StoryId> = stories.iter().map(|s| s.id).collect();
        let urls = feed_urls(&config.server.base_url, &topic.slug);
        for hook in hooks {
            let key = hook.key();
            let unsent = store.unsent(&key, &topic.slug, &ids)?;
            if unsent.is_empty() {
                continue;
            }
            let new: Vec<Story> = stories
                .iter()
                .filter(|s| unsent.contains(&s.id))
                .cloned()
                .collect();
            let open = store.last_delivery(&key)?.and_then(|(at, d)| {
                let joinable = d.topic == topic.slug
                    && !d.attempted
                    && d.stories.len() + new.len() <= MAX_BATCH;
                joinable.then(|| items_of(&d.body).map(|items| (at, d.stories, items)))?
            });
            let (at, mut carried, mut items) = match open {
                Some((at, stories, items)) => (Some(at), stories, items),
                None => (None, Vec::new(), Vec::new()),
            };
            carried.extend(&unsent);
            items.extend(jsonfeed::items(&new, topic.full_content));
            let id = delivery_id(&key, &topic.slug, &carried);
            let delivery = Delivery {
                body: body(&id, &topic.slug, &topic.title, &urls, items),
                id,
                topic: topic.slug.clone(),
                created: now,
                stories: carried,
                attempted: false,
            };
            store.put_delivery(&key, at.as_deref(), &delivery)?;
            written += 1;
        }
    }
    Ok(written)
}

/// The items of a delivery body this daemon wrote (none when it cannot be read back: then
/// the new items go to a delivery of their own).
fn items_of(body: &str) -> Option<Vec<serde_json::Value>> {
    match serde_json::from_str::<serde_json::Value>(body)
        .ok()?
        .get("items")?
    {
        serde_json::Value::Array(items) => Some(items.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn only_answers_about_the_body_drop_a_delivery_at_once() {
        let status = |status| FetchError::Status {
            status,
            retry_after: None,
        };
        for refused in [400, 413, 415, 422] {
            assert!(rejects_the_body(&status(refused)), "{refused}");
        }
        for retried in [401, 403, 404, 408, 409, 410, 429, 500, 502, 503] {
            assert!(!rejects_the_body(&status(retried)), "{retried}");
        }
        assert!(!rejects_the_body(&FetchError::Timeout(
            Duration::from_secs(1)
        )));
    }

    #[test]
    fn a_delivery_is_retried_for_its_retry_for_then_given_up_on() {
        let created = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        let delivery = Delivery {
            id: "d1".into(),
            topic: "t".into(),
            created,
            stories: vec![],
            body: "{}".into(),
            attempted: true,
        };
        let after = |hours| created + chrono::Duration::hours(hours);
        let day = Duration::from_secs(86_400);
        assert_eq!(give_up_at(&delivery, day), after(24));
        assert_eq!(give_up_at(&delivery, day * 7), after(168));
        assert_eq!(
            give_up_at(&delivery, Duration::MAX),
            DateTime::<Utc>::MAX_UTC,
            "never, rather than a wrapped date"
        );
    }
}
