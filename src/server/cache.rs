//! Rendered responses per (topic, view, parsed narrowing): the bytes in every coding
//! (compressed once, at render time) and every response head, so a hit does no database,
//! rendering or formatting work. An entry stays good until the store changes or an item of
//! it leaves the window or the config changes; concurrent misses of one key wait for a single
//! render. The cache is bounded in bytes (`[server] cache_bytes`): the least recently used
//! entries go first. It outlives config reloads so that a failed render can serve the last
//! response made.

use super::encoding::{self, Coding};
use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

/// The codings in the order of the per-coding arrays (`index`).
const CODINGS: [Coding; 3] = [Coding::Identity, Coding::Gzip, Coding::Brotli];

/// One finished response in every coding, with its complete heads.
#[derive(Debug)]
pub(super) struct Rendered {
    /// Identity, gzip, brotli: the order of `CODINGS`.
    bodies: [Bytes; 3],
    /// Per coding, the head of a 200: content type and coding, validators, caching, CORS.
    /// Built once so that a hit clones one map instead of inserting each header.
    ok_heads: [HeaderMap; 3],
    /// Per coding, the head of a 304: the same less the content headers.
    not_modified_heads: [HeaderMap; 3],
    /// Strong validator per coding (each coding is its own representation).
    etags: [String; 3],
    pub last_modified: SystemTime,
    /// Store generation the render read.
    generation: u64,
    /// The bytes stay right until then (an item leaves the window, or the hot ranking
    /// moves); `None`: until the store changes.
    valid_until: Option<DateTime<Utc>>,
}

/// What a render needs to describe itself.
pub(super) struct RenderInfo {
    pub last_modified: SystemTime,
    pub content_type: &'static str,
    pub max_age: u64,
    pub generation: u64,
    pub valid_until: Option<DateTime<Utc>>,
    /// Headers this view adds to every response (an embed's framing policy).
    pub extra_headers: &'static [(HeaderName, HeaderValue)],
}

impl Rendered {
    pub(super) fn new(bytes: Vec<u8>, info: RenderInfo) -> Rendered {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(&bytes);
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        let etags = [
            format!("\"{hex}\""),
            format!("\"{hex}-gz\""),
            format!("\"{hex}-br\""),
        ];
        let not_modified_heads = [0, 1, 2].map(|i| not_modified_head(&etags[i], &info));
        let ok_heads = [0, 1, 2].map(|i| ok_head(CODINGS[i], &not_modified_heads[i], &info));
        let (gzip, brotli) = (encoding::gzip(&bytes), encoding::brotli(&bytes));
        Rendered {
            bodies: [Bytes::from(bytes), Bytes::from(gzip), Bytes::from(brotli)],
            ok_heads,
            not_modified_heads,
            etags,
            last_modified: info.last_modified,
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

    pub(super) fn body(&self, coding: Coding) -> Bytes {
        self.bodies[Self::index(coding)].clone()
    }

    /// The complete head of a 200 in `coding`.
    pub(super) fn ok_head(&self, coding: Coding) -> &HeaderMap {
        &self.ok_heads[Self::index(coding)]
    }

    /// The complete head of a 304 for a client that asked for `coding`.
    pub(super) fn not_modified_head(&self, coding: Coding) -> &HeaderMap {
        &self.not_modified_heads[Self::index(coding)]
    }

    /// Every validator this content has been sent with.
    pub(super) fn etags(&self) -> &[String; 3] {
        &self.etags
    }

    fn fresh(&self, generation: u64, now: DateTime<Utc>) -> bool {
        self.generation == generation && self.valid_until.is_none_or(|until| now < until)
    }

    /// Bytes this response holds: bodies and heads.
    fn size(&self) -> usize {
        let heads: usize = self
            .ok_heads
            .iter()
            .chain(&self.not_modified_heads)
            .flat_map(|h| h.iter())
            .map(|(name, value)| name.as_str().len() + value.len() + 32)
            .sum();
        self.bodies.iter().map(Bytes::len).sum::<usize>() + heads + 256
    }
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Validators, caching, CORS and the view's own headers: what a 304 carries.
fn not_modified_head(etag: &str, info: &RenderInfo) -> HeaderMap {
    let mut head = HeaderMap::with_capacity(8 + info.extra_headers.len());
    head.insert(header::ETAG, header_value(etag));
    head.insert(
        header::LAST_MODIFIED,
        header_value(&httpdate::fmt_http_date(info.last_modified)),
    );
    head.insert(
        header::CACHE_CONTROL,
        header_value(&format!("public, max-age={}", info.max_age)),
    );
    head.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    head.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    head.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    for (name, value) in info.extra_headers {
        head.insert(name.clone(), value.clone());
    }
    head
}

/// A 200's head: the content type and coding first, then what a 304 carries.
fn ok_head(coding: Coding, not_modified: &HeaderMap, info: &RenderInfo) -> HeaderMap {
    let mut head = HeaderMap::with_capacity(not_modified.len() + 2);
    head.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(info.content_type),
    );
    if let Some(name) = coding.header_value() {
        head.insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
    }
    for (name, value) in not_modified {
        head.insert(name.clone(), value.clone());
    }
    head
}

/// One key's current response (with the config epoch it was made under), and the lock that
/// makes concurrent misses render once.
#[derive(Default)]
pub(super) struct Slot {
    current: RwLock<Option<(Epoch, Arc<Rendered>)>>,
    rendering: tokio::sync::Mutex<()>,
}

/// Which config a response was made under: each reload starts a new one.
pub(super) type Epoch = u64;

impl Slot {
    /// The current response if it is still right for this config, store generation and time.
    pub(super) fn fresh(
        &self,
        epoch: Epoch,
        generation: u64,
        now: DateTime<Utc>,
    ) -> Option<Arc<Rendered>> {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner());
        current
            .as_ref()
            .filter(|(made_under, r)| *made_under == epoch && r.fresh(generation, now))
            .map(|(_, r)| Arc::clone(r))
    }

    /// The last response kept, fresh or not, under any config: what is served when a new
    /// one cannot be made.
    pub(super) fn last(&self) -> Option<Arc<Rendered>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|(_, r)| Arc::clone(r))
    }

    /// Held while rendering: the others wait, then find the fresh response.
    pub(super) async fn render_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.rendering.lock().await
    }

    fn put(&self, epoch: Epoch, rendered: Arc<Rendered>) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some((epoch, rendered));
    }
}

/// What an entry costs beyond its response: the key, the slot, the map's bookkeeping.
const ENTRY_OVERHEAD: usize = 512;

struct Entry {
    slot: Arc<Slot>,
    /// The cache's clock when the entry was last asked for.
    used: u64,
    /// Bytes counted for it (its response and overhead).
    size: usize,
}

struct Entries {
    map: HashMap<String, Entry>,
    clock: u64,
    bytes: usize,
    capacity: usize,
}

pub(super) struct RenderCache {
    entries: Mutex<Entries>,
}

impl RenderCache {
    pub(super) fn new(capacity_bytes: u64) -> RenderCache {
        RenderCache {
            entries: Mutex::new(Entries {
                map: HashMap::new(),
                clock: 0,
                bytes: 0,
                capacity: capacity_of(capacity_bytes),
            }),
        }
    }

    /// A reload's new `cache_bytes`: entries beyond it go now, least recently used first.
    pub(super) fn resize(&self, capacity_bytes: u64) {
        let mut entries = self.lock();
        entries.capacity = capacity_of(capacity_bytes);
        self.evict(&mut entries, "");
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The slot of `key`, made (empty) when there is none.
    pub(super) fn slot(&self, key: &str) -> Arc<Slot> {
        let mut entries = self.lock();
        entries.clock += 1;
        let now = entries.clock;
        if let Some(entry) = entries.map.get_mut(key) {
            entry.used = now;
            return Arc::clone(&entry.slot);
        }
        let slot = Arc::new(Slot::default());
        let size = key.len() + ENTRY_OVERHEAD;
        entries.bytes += size;
        entries.map.insert(
            key.to_string(),
            Entry {
                slot: Arc::clone(&slot),
                used: now,
                size,
            },
        );
        self.evict(&mut entries, key);
        slot
    }

    /// Makes `rendered` the response of `key` (through its slot), then evicts the least
    /// recently used entries until the cache fits its capacity again.
    pub(super) fn put(&self, key: &str, slot: &Arc<Slot>, epoch: Epoch, rendered: Arc<Rendered>) {
        let size = key.len() + ENTRY_OVERHEAD + rendered.size();
        slot.put(epoch, rendered);
        let mut entries = self.lock();
        // The entry may have been evicted while rendering: the response is then served once.
        let Some(entry) = entries
            .map
            .get_mut(key)
            .filter(|e| Arc::ptr_eq(&e.slot, slot))
        else {
            return;
        };
        let old = std::mem::replace(&mut entry.size, size);
        entries.bytes = entries.bytes - old + size;
        self.evict(&mut entries, key);
    }

    /// Drops least recently used entries (never `keep`) while over capacity.
    fn evict(&self, entries: &mut Entries, keep: &str) {
        while entries.bytes > entries.capacity {
            let oldest = entries
                .map
                .iter()
                .filter(|(k, _)| k.as_str() != keep)
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone());
            let Some(key) = oldest else { break };
            if let Some(gone) = entries.map.remove(&key) {
                entries.bytes -= gone.size;
            }
        }
    }

    /// Bytes held now (responses and overhead).
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

fn capacity_of(bytes: u64) -> usize {
    usize::try_from(bytes).unwrap_or(usize::MAX)
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
                extra_headers: &[],
            },
        ))
    }

    #[test]
    fn entries_expire_with_the_store_or_the_window() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let slot = Slot::default();
        assert!(slot.fresh(0, 1, now).is_none());
        slot.put(0, rendered(1, Some(now + chrono::Duration::hours(2))));
        assert!(slot.fresh(0, 1, now).is_some());
        assert!(
            slot.fresh(0, 1, now + chrono::Duration::hours(1)).is_some(),
            "a minute passing changes nothing"
        );
        assert!(
            slot.fresh(0, 1, now + chrono::Duration::hours(2)).is_none(),
            "an item left the window"
        );
        assert!(slot.fresh(0, 2, now).is_none(), "the store changed");
        assert!(slot.fresh(1, 1, now).is_none(), "the config changed");
        assert!(
            slot.last().is_some(),
            "kept for when a new one cannot be made"
        );
        let (_, r) = slot.current.read().unwrap().clone().unwrap();
        assert_eq!(&r.body(Coding::Identity)[..], b"<rss/>");
        assert_eq!(r.ok_head(Coding::Gzip)[header::ETAG], r.etags()[1].as_str());
        assert!(r.etags()[1].ends_with("-gz\""));
        assert!(r.etags()[2].ends_with("-br\""));
    }

    #[test]
    fn heads_carry_every_header_in_wire_order() {
        static FRAMEABLE: [(HeaderName, HeaderValue); 1] = [(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors *"),
        )];
        let r = Rendered::new(
            b"<p>".to_vec(),
            RenderInfo {
                last_modified: SystemTime::UNIX_EPOCH,
                content_type: "text/html; charset=utf-8",
                max_age: 300,
                generation: 1,
                valid_until: None,
                extra_headers: &FRAMEABLE,
            },
        );
        fn names(head: &HeaderMap) -> Vec<&str> {
            head.keys().map(|k| k.as_str()).collect()
        }
        let common = [
            "etag",
            "last-modified",
            "cache-control",
            "vary",
            "access-control-allow-origin",
            "x-content-type-options",
            "content-security-policy",
        ];
        assert_eq!(names(r.not_modified_head(Coding::Gzip)), common);
        assert_eq!(names(r.ok_head(Coding::Identity))[0], "content-type");
        assert_eq!(names(r.ok_head(Coding::Identity))[1..], common);
        let gzip = r.ok_head(Coding::Gzip);
        assert_eq!(names(gzip)[..2], ["content-type", "content-encoding"]);
        assert_eq!(gzip[header::CONTENT_ENCODING], "gzip");
        assert_eq!(gzip[header::ETAG], r.etags()[1].as_str());
        assert_eq!(gzip[header::CACHE_CONTROL], "public, max-age=300");
        assert_eq!(gzip[header::LAST_MODIFIED], "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(r.ok_head(Coding::Brotli)[header::CONTENT_ENCODING], "br");
    }

    fn sized(bytes: usize) -> Arc<Rendered> {
        // Incompressible bytes, so every coding holds about as much.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let body: Vec<u8> = (0..bytes)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        Arc::new(Rendered::new(
            body,
            RenderInfo {
                last_modified: SystemTime::UNIX_EPOCH,
                content_type: "application/rss+xml",
                max_age: 60,
                generation: 1,
                valid_until: None,
                extra_headers: &[],
            },
        ))
    }

    #[test]
    fn the_cache_stays_within_its_bytes_and_drops_the_least_recently_used() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let cache = RenderCache::new(1024 * 1024);
        let hot = cache.slot("/t/hot.rss");
        cache.put("/t/hot.rss", &hot, 0, sized(100_000));
        for n in 0..40 {
            let key = format!("/t/t.rss?limit={n}");
            let slot = cache.slot(&key);
            cache.put(&key, &slot, 0, sized(100_000));
            // A reader keeps asking for the hot feed between the others.
            cache.slot("/t/hot.rss");
            assert!(cache.bytes() <= 1024 * 1024, "{} bytes", cache.bytes());
        }
        assert!(
            cache.slot("/t/hot.rss").fresh(0, 1, now).is_some(),
            "the recently used entry stays"
        );
        assert!(
            cache.slot("/t/t.rss?limit=0").fresh(0, 1, now).is_none(),
            "the oldest went first"
        );
        assert!(cache.slot("/t/t.rss?limit=39").fresh(0, 1, now).is_some());
    }

    #[test]
    fn keys_without_responses_are_bounded_too() {
        let cache = RenderCache::new(64 * 1024);
        for n in 0..10_000 {
            cache.slot(&format!("/t/t.rss?q=-zz{n}"));
        }
        assert!(cache.bytes() <= 64 * 1024);
        cache.resize(16 * 1024);
        assert!(cache.bytes() <= 16 * 1024, "a reload made it smaller");
    }
}
