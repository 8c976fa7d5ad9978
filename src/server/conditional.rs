//! Conditional GET by the HTTP book: If-None-Match (weak comparison, lists, `*`) takes
//! precedence over If-Modified-Since.

use axum::http::header::{IF_MODIFIED_SINCE, IF_NONE_MATCH};
use axum::http::HeaderMap;
use std::time::SystemTime;

/// True when the client's cached copy is current and a 304 is the answer. `etags` are the
/// validators of every coding of the current content: a client holding any of them has it.
pub(super) fn not_modified<S: AsRef<str>>(
    headers: &HeaderMap,
    etags: &[S],
    last_modified: SystemTime,
) -> bool {
    if let Some(inm) = headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        return inm
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || etags.iter().any(|e| opaque(tag) == opaque(e.as_ref())));
    }
    if let Some(ims) = headers.get(IF_MODIFIED_SINCE).and_then(|v| v.to_str().ok()) {
        if let Ok(since) = httpdate::parse_http_date(ims) {
            return truncate_to_seconds(last_modified) <= since;
        }
    }
    false
}

fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

fn truncate_to_seconds(t: SystemTime) -> SystemTime {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use std::time::Duration;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn etag_matching() {
        let lm = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert!(not_modified(
            &headers(&[("if-none-match", "\"abc\"")]),
            &["\"abc\""],
            lm
        ));
        assert!(not_modified(
            &headers(&[("if-none-match", "\"x\", W/\"abc\"")]),
            &["\"abc\""],
            lm
        ));
        assert!(not_modified(
            &headers(&[("if-none-match", "*")]),
            &["\"abc\""],
            lm
        ));
        assert!(!not_modified(
            &headers(&[("if-none-match", "\"old\"")]),
            &["\"abc\""],
            lm
        ));
        // If-None-Match wins even when If-Modified-Since alone would give 304.
        let ims = httpdate::fmt_http_date(lm + Duration::from_secs(60));
        assert!(!not_modified(
            &headers(&[("if-none-match", "\"old\""), ("if-modified-since", &ims)]),
            &["\"abc\""],
            lm
        ));
    }

    #[test]
    fn modified_since() {
        let lm = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let same = httpdate::fmt_http_date(lm);
        let earlier = httpdate::fmt_http_date(lm - Duration::from_secs(1));
        assert!(not_modified(
            &headers(&[("if-modified-since", &same)]),
            &["\"a\""],
            lm + Duration::from_millis(300)
        ));
        assert!(!not_modified(
            &headers(&[("if-modified-since", &earlier)]),
            &["\"a\""],
            lm
        ));
        assert!(!not_modified(
            &headers(&[("if-modified-since", "garbage")]),
            &["\"a\""],
            lm
        ));
    }
}
