//! What a webhook POST is: its body (the topic, its feed URLs, the new items as the JSON
//! Feed renders them), the delivery id that stays the same on every attempt, and the
//! signature over the body.

use crate::config::Secret;
use crate::model::StoryId;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The id of the delivery of `ids` in `topic` to `hook`: derived from what it carries, so
/// queueing it again after a crash names it the same.
pub(crate) fn delivery_id(hook: &str, topic: &str, ids: &[StoryId]) -> String {
    let mut hash = Sha256::new();
    for part in [hook.as_bytes(), topic.as_bytes()] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    for id in ids {
        hash.update(id.0);
    }
    hex(&hash.finalize()[..16])
}

/// The JSON body of one delivery; `items` as `render::jsonfeed::items` made them.
pub(crate) fn body(
    delivery: &str,
    slug: &str,
    title: &str,
    feed_urls: &[String],
    items: Vec<Value>,
) -> String {
    let url = |i: usize| feed_urls.get(i).cloned().unwrap_or_default();
    let body = json!({
        "delivery": delivery,
        "topic": {
            "slug": slug,
            "title": title,
            "feed_urls": { "rss": url(0), "atom": url(1), "json": url(2) },
        },
        "items": items,
    });
    // A `Value` always serializes.
    serde_json::to_string(&body).unwrap_or_default()
}

/// `X-Feedsift-Signature`: `sha256=` and the hex HMAC-SHA256 of `body` under `key`.
pub(crate) fn signature(key: &Secret, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key.bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_sha256_of_the_body() {
        // RFC 4231, test case 2.
        let key = Secret(b"Jefe".to_vec());
        assert_eq!(
            signature(&key, b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(format!("{key:?}"), "Secret(..)");
    }

    #[test]
    fn delivery_ids_follow_what_is_delivered() {
        let (a, b) = (
            StoryId::from_canonical_url("a"),
            StoryId::from_canonical_url("b"),
        );
        let id = delivery_id("h", "ds", &[a, b]);
        assert_eq!(id.len(), 32);
        assert_eq!(id, delivery_id("h", "ds", &[a, b]));
        assert_ne!(id, delivery_id("h", "ds", &[b, a]));
        assert_ne!(id, delivery_id("h", "rust", &[a, b]));
        assert_ne!(id, delivery_id("g", "ds", &[a, b]));
    }

    #[test]
    fn the_body_names_the_topic_its_feeds_and_the_items() {
        let urls = crate::push::feed_urls("http://f.example", "ds");
        let items = vec![json!({ "id": "urn:uuid:1" })];
        let body: Value = serde_json::from_str(&body("d1", "ds", "DS", &urls, items)).unwrap();
        assert_eq!(body["delivery"], "d1");
        assert_eq!(body["topic"]["slug"], "ds");
        assert_eq!(
            body["topic"]["feed_urls"]["atom"],
            "http://f.example/t/ds.atom"
        );
        assert_eq!(body["items"][0]["id"], "urn:uuid:1");
    }
}
