//! The webhook outbox (`webhook_outbox`) and what each webhook was sent (`webhook_sent`):
//! a delivery and the ids it carries land in one transaction, are flushed before anything is
//! sent, and leave the outbox only once the receiver answered 2xx. New trees: the schema of
//! the others is untouched.

use super::kv::{Batch, Direction, Entry, KeyRange, Tree};
use super::{decode, encode, Store, StoreError};
use crate::model::StoryId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One POST to make, exactly as it will be sent (again, after a failure or a restart).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Delivery {
    /// Sent as `X-Feedsift-Delivery`: the same on every attempt.
    pub id: String,
    pub topic: String,
    pub created: DateTime<Utc>,
    /// The stories it carries, in the order of its items.
    pub stories: Vec<StoryId>,
    pub body: String,
    /// It was (or may have been) sent: its id and body are fixed from then on, and new items
    /// go to a later delivery. Until then new items of its topic join it (a batch).
    #[serde(default)]
    pub attempted: bool,
}

fn prefix(hook: &str) -> Vec<u8> {
    [hook.as_bytes(), b"/"].concat()
}

fn decode_entry((key, value): Entry) -> Result<(Vec<u8>, Delivery), StoreError> {
    let delivery = decode(&value, &String::from_utf8_lossy(&key))?;
    Ok((key, delivery))
}

/// The story first, so that pruning a story finds what was sent of it by prefix.
pub(super) fn sent_key(hook: &str, topic: &str, id: StoryId) -> Vec<u8> {
    [&id.0[..], hook.as_bytes(), b"/", topic.as_bytes()].concat()
}

/// A sent key as schema 4 wrote it (`{hook}/{topic}/{story id in hex}`), in today's form;
/// `None` when `key` is not one.
pub(super) fn sent_key_from_v4(key: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(key).ok()?;
    let (hook_topic, hex) = text.rsplit_once('/')?;
    let (hook, topic) = hook_topic.split_once('/')?;
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut id = [0u8; 16];
    for (byte, pair) in id.iter_mut().zip(hex.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(sent_key(hook, topic, StoryId(id)))
}

impl Store {
    /// Of `ids` (stories in `topic`'s feed), those `hook` was never sent, in the same order.
    pub(crate) fn unsent(
        &self,
        hook: &str,
        topic: &str,
        ids: &[StoryId],
    ) -> Result<Vec<StoryId>, StoreError> {
        let mut out = Vec::new();
        for id in ids {
            if !self
                .kv
                .contains(Tree::WebhookSent, &sent_key(hook, topic, *id))?
            {
                out.push(*id);
            }
        }
        Ok(out)
    }

    /// Writes `delivery` for `hook` and records its stories as sent, in one transaction,
    /// flushed: at `key` (replacing a batch that grew), else after every queued one.
    pub(crate) fn put_delivery(
        &self,
        hook: &str,
        key: Option<&[u8]>,
        delivery: &Delivery,
    ) -> Result<(), StoreError> {
        let key = match key {
            Some(key) => key.to_vec(),
            None => {
                let seq = match self.last_delivery(hook)? {
                    Some((key, _)) => {
                        let tail: [u8; 8] = key[key.len().saturating_sub(8)..]
                            .try_into()
                            .unwrap_or_default();
                        u64::from_be_bytes(tail).saturating_add(1)
                    }
                    None => 0,
                };
                [prefix(hook), seq.to_be_bytes().to_vec()].concat()
            }
        };
        let mut batch = Batch::default();
        batch.put(Tree::WebhookOutbox, key, encode(delivery)?);
        for id in &delivery.stories {
            batch.put(Tree::WebhookSent, sent_key(hook, &delivery.topic, *id), []);
        }
        self.kv.commit(batch)?;
        self.kv.flush()
    }

    /// Records that the delivery at `key` is about to be sent (flushed before it is).
    pub(crate) fn mark_attempted(&self, key: &[u8], delivery: &Delivery) -> Result<(), StoreError> {
        let marked = Delivery {
            attempted: true,
            ..delivery.clone()
        };
        self.kv.put(Tree::WebhookOutbox, key, &encode(&marked)?)?;
        self.kv.flush()
    }

    /// The newest delivery queued for `hook`, with its outbox key.
    pub(crate) fn last_delivery(
        &self,
        hook: &str,
    ) -> Result<Option<(Vec<u8>, Delivery)>, StoreError> {
        self.end_delivery(hook, Direction::Backward)
    }

    /// The oldest delivery `hook` has not had acknowledged, with its outbox key.
    pub(crate) fn next_delivery(
        &self,
        hook: &str,
    ) -> Result<Option<(Vec<u8>, Delivery)>, StoreError> {
        self.end_delivery(hook, Direction::Forward)
    }

    /// The delivery of `hook` at the end of its queue that `direction` starts from.
    fn end_delivery(
        &self,
        hook: &str,
        direction: Direction,
    ) -> Result<Option<(Vec<u8>, Delivery)>, StoreError> {
        let range = KeyRange::prefix(&prefix(hook));
        self.kv
            .first(Tree::WebhookOutbox, range, direction)?
            .map(decode_entry)
            .transpose()
    }

    /// The delivery at `key` is done with (acknowledged, or given up on): gone, flushed.
    pub(crate) fn remove_delivery(&self, key: &[u8]) -> Result<(), StoreError> {
        self.kv.delete(Tree::WebhookOutbox, key)?;
        self.kv.flush()
    }

    /// Deliveries waiting for `hook`.
    pub(crate) fn outbox_len(&self, hook: &str) -> usize {
        self.kv
            .scan_keys(
                Tree::WebhookOutbox,
                KeyRange::prefix(&prefix(hook)),
                Direction::Forward,
            )
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_backends::{on_both_backends, TestStore};

    fn delivery(id: &str, stories: &[StoryId]) -> Delivery {
        Delivery {
            id: id.into(),
            topic: "ds".into(),
            created: DateTime::UNIX_EPOCH,
            stories: stories.to_vec(),
            body: format!("{{\"delivery\":\"{id}\"}}"),
            attempted: false,
        }
    }

    fn deliveries_leave_in_order_and_their_stories_are_never_queued_twice(backend: &TestStore) {
        let (a, b, c) = (
            StoryId::from_canonical_url("a"),
            StoryId::from_canonical_url("b"),
            StoryId::from_canonical_url("c"),
        );
        {
            let store = backend.open();
            assert_eq!(store.unsent("h", "ds", &[a, b]).unwrap(), [a, b]);
            store
                .put_delivery("h", None, &delivery("one", &[a, b]))
                .unwrap();
            assert_eq!(store.unsent("h", "ds", &[c, a, b]).unwrap(), [c]);
            // Another webhook, and another topic of the same one, were sent nothing.
            assert_eq!(store.unsent("g", "ds", &[a]).unwrap(), [a]);
            assert_eq!(store.unsent("h", "rust", &[a]).unwrap(), [a]);
            store
                .put_delivery("h", None, &delivery("two", &[]))
                .unwrap();
            // A batch that grows keeps its place.
            let (key, last) = store.last_delivery("h").unwrap().unwrap();
            assert_eq!(last.id, "two");
            store
                .put_delivery("h", Some(&key), &delivery("two+", &[c]))
                .unwrap();
            assert_eq!(store.outbox_len("h"), 2);
            assert_eq!(store.outbox_len("g"), 0);
            let (key, first) = store.next_delivery("h").unwrap().unwrap();
            store.mark_attempted(&key, &first).unwrap();
        }
        // Reopened, as after a restart: both wait, oldest first, the first marked as tried.
        let store = backend.open();
        let (key, first) = store.next_delivery("h").unwrap().unwrap();
        assert_eq!(
            first,
            Delivery {
                attempted: true,
                ..delivery("one", &[a, b])
            }
        );
        store.remove_delivery(&key).unwrap();
        let (key, second) = store.next_delivery("h").unwrap().unwrap();
        assert_eq!((second.id.as_str(), second.stories), ("two+", vec![c]));
        store.remove_delivery(&key).unwrap();
        assert!(store.next_delivery("h").unwrap().is_none());
        // Sent is sent: acknowledged stories stay known, so leaving and re-entering a feed
        // sends nothing.
        assert!(store.unsent("h", "ds", &[a, b, c]).unwrap().is_empty());
        store
            .put_delivery("h", None, &delivery("three", &[]))
            .unwrap();
        assert_eq!(store.next_delivery("h").unwrap().unwrap().1.id, "three");
    }

    on_both_backends!(deliveries_leave_in_order_and_their_stories_are_never_queued_twice);
}
