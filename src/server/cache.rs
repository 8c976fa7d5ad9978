//! Rendered bytes per (topic, view, canonical query), compressed once (gzip, brotli), with
//! their validators; rebuilt only when the store changed or a minute passed (the window
//! slides with time). A hit does no database or rendering work.

use super::encoding::{self, Coding};
use axum::body::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// One finished response body in every coding, and what describes it.
#[derive(Debug)]
pub struct Rendered {
    pub identity: Bytes,
    pub gzip: Bytes,
    pub brotli: Bytes,
    /// Strong validator of the identity bytes (see `etag` for the others).
    pub etag: String,
    pub last_modified: SystemTime,
    pub content_type: &'static str,
}

impl Rendered {
    pub fn new(bytes: Vec<u8>, last_modified: SystemTime, content_type: &'static str) -> Rendered {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(&bytes);
        let etag = format!(
            "\"{}\"",
            digest[..12]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        Rendered {
            gzip: encoding::gzip(&bytes).into(),
            brotli: encoding::brotli(&bytes).into(),
            identity: bytes.into(),
            etag,
            last_modified,
            content_type,
        }
    }

    /// Each coding is its own representation with its own strong validator.
    pub fn etag(&self, coding: Coding) -> String {
        match coding {
            Coding::Identity => self.etag.clone(),
            Coding::Gzip => format!("{}-gz\"", self.etag.trim_end_matches('"')),
            Coding::Brotli => format!("{}-br\"", self.etag.trim_end_matches('"')),
        }
    }

    /// Every validator this content has been sent with.
    pub fn etags(&self) -> [String; 3] {
        [
            self.etag(Coding::Identity),
            self.etag(Coding::Gzip),
            self.etag(Coding::Brotli),
        ]
    }

    pub fn body(&self, coding: Coding) -> Bytes {
        match coding {
            Coding::Identity => self.identity.clone(),
            Coding::Gzip => self.gzip.clone(),
            Coding::Brotli => self.brotli.clone(),
        }
    }
}

/// What a cached entry was built from: it is reused only while this stays the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    pub generation: u64,
    pub minute: i64,
}

/// Entries beyond this are dropped (all at once): ad hoc queries must not grow it forever.
const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
pub struct RenderCache {
    entries: Mutex<HashMap<String, (Freshness, Arc<Rendered>)>>,
}

impl RenderCache {
    pub fn get(&self, key: &str, fresh: Freshness) -> Option<Arc<Rendered>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|(f, _)| *f == fresh)
            .map(|(_, r)| Arc::clone(r))
    }

    pub fn put(&self, key: String, fresh: Freshness, rendered: Arc<Rendered>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, (fresh, rendered));
    }
}
