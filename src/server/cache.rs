//! Rendered responses per (topic, view, query): the bytes in every coding (compressed once,
//! at render time) and every header value, so a hit does no database, rendering or
//! formatting work. An entry stays good until the store changes or an item of it leaves the
//! window; concurrent misses of one key wait for a single render.

use super::encoding::{self, Coding};
use axum::body::Bytes;
use axum::http::HeaderValue;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

/// One finished response in every coding, with its header values.
#[derive(Debug)]
pub struct Rendered {
    /// Identity, gzip, brotli: the order of `Coding`s in `index`.
    bodies: [Bytes; 3],
    /// Strong validator per coding (each coding is its own representation).
    etags: [String; 3],
    etag_values: [HeaderValue; 3],
    pub last_modified: SystemTime,
    pub last_modified_value: HeaderValue,
    pub cache_control: HeaderValue,
    pub content_type: &'static str,
    /// Store generation the render read.
    generation: u64,
    /// The bytes stay right until then (an item leaves the window, or the hot ranking
    /// moves); `None`: until the store changes.
    valid_until: Option<DateTime<Utc>>,
}

/// What a render needs to describe itself.
pub struct RenderInfo {
    pub last_modified: SystemTime,
    pub content_type: &'static str,
    pub max_age: u64,
    pub generation: u64,
    pub valid_until: Option<DateTime<Utc>>,
}

impl Rendered {
    pub fn new(bytes: Vec<u8>, info: RenderInfo) -> Rendered {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(&bytes);
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        let etags = [
            format!("\"{hex}\""),
            format!("\"{hex}-gz\""),
            format!("\"{hex}-br\""),
        ];
        let value = |text: &str| {
            HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
        };
        let (gzip, brotli) = (encoding::gzip(&bytes), encoding::brotli(&bytes));
        Rendered {
            bodies: [Bytes::from(bytes), Bytes::from(gzip), Bytes::from(brotli)],
            etag_values: [value(&etags[0]), value(&etags[1]), value(&etags[2])],
            etags,
            last_modified_value: value(&httpdate::fmt_http_date(info.last_modified)),
            last_modified: info.last_modified,
            cache_control: value(&format!("public, max-age={}", info.max_age)),
            content_type: info.content_type,
            generation: info.generation,
            valid_until: info.valid_until,
        }
    }

    fn index(coding: Coding) -> usize {
        match coding {
            Coding::Identity => 0,
            Coding::Gzip => 1,
            Coding::Brotli => 2,
        }
    }

    pub fn body(&self, coding: Coding) -> Bytes {
        self.bodies[Self::index(coding)].clone()
    }

    pub fn etag_value(&self, coding: Coding) -> HeaderValue {
        self.etag_values[Self::index(coding)].clone()
    }

    /// Every validator this content has been sent with.
    pub fn etags(&self) -> &[String; 3] {
        &self.etags
    }

    fn fresh(&self, generation: u64, now: DateTime<Utc>) -> bool {
        self.generation == generation && self.valid_until.is_none_or(|until| now < until)
    }
}

/// One key's current response, and the lock that makes concurrent misses render once.
#[derive(Default)]
pub struct Slot {
    current: RwLock<Option<Arc<Rendered>>>,
    rendering: tokio::sync::Mutex<()>,
}

impl Slot {
    /// The current response if it is still right for this store generation and time.
    pub fn fresh(&self, generation: u64, now: DateTime<Utc>) -> Option<Arc<Rendered>> {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner());
        current
            .as_ref()
            .filter(|r| r.fresh(generation, now))
            .map(Arc::clone)
    }

    /// Held while rendering: the others wait, then find the fresh response.
    pub async fn render_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.rendering.lock().await
    }

    pub fn put(&self, rendered: Arc<Rendered>) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(rendered);
    }
}

/// Keys beyond this are dropped (all at once): ad hoc queries must not grow it forever.
const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
pub struct RenderCache {
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

impl RenderCache {
    pub fn slot(&self, key: &str) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = slots.get(key) {
            return Arc::clone(slot);
        }
        if slots.len() >= MAX_ENTRIES {
            slots.clear();
        }
        Arc::clone(slots.entry(key.to_string()).or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn rendered(generation: u64, valid_until: Option<DateTime<Utc>>) -> Arc<Rendered> {
        Arc::new(Rendered::new(
            b"<rss/>".to_vec(),
            RenderInfo {
                last_modified: SystemTime::UNIX_EPOCH,
                content_type: "application/rss+xml",
                max_age: 60,
                generation,
                valid_until,
            },
        ))
    }

    #[test]
    fn entries_expire_with_the_store_or_the_window() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let slot = Slot::default();
        assert!(slot.fresh(1, now).is_none());
        slot.put(rendered(1, Some(now + chrono::Duration::hours(2))));
        assert!(slot.fresh(1, now).is_some());
        assert!(
            slot.fresh(1, now + chrono::Duration::hours(1)).is_some(),
            "a minute passing changes nothing"
        );
        assert!(
            slot.fresh(1, now + chrono::Duration::hours(2)).is_none(),
            "an item left the window"
        );
        assert!(slot.fresh(2, now).is_none(), "the store changed");
        let r = slot.current.read().unwrap().clone().unwrap();
        assert_eq!(&r.body(Coding::Identity)[..], b"<rss/>");
        assert_eq!(r.etag_value(Coding::Gzip), r.etags()[1].as_str());
        assert!(r.etags()[1].ends_with("-gz\""));
    }
}
