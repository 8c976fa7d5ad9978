//! Canonical article URLs (the dedup key) and reader-facing clean URLs.
//! `canonical_url` folds every decoration of one article onto one string;
//! `clean_url` only drops tracking parameters, keeping the link a reader follows intact.

use super::tracking::{
    HOST_PREFIXES, REFERRER_PARAMS, REFERRER_VALUES, TRACKING_PARAMS, TRACKING_PREFIXES,
};
use url::Url;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum UrlError {
    #[error("not a valid absolute URL: {0:?}")]
    Invalid(String),
    #[error("unsupported URL scheme {scheme:?} in {url:?} (only http and https)")]
    Scheme { scheme: String, url: String },
}

/// Parses `raw` (trimmed) as an absolute http(s) URL, resolving it against `base` when relative.
pub fn parse_http_url(raw: &str, base: Option<&Url>) -> Result<Url, UrlError> {
    let raw = raw.trim();
    let parsed = match base {
        Some(base) => base.join(raw),
        None => Url::parse(raw),
    }
    .map_err(|_| UrlError::Invalid(raw.to_string()))?;
    match parsed.scheme() {
        "http" | "https" if parsed.host_str().is_some() => Ok(parsed),
        "http" | "https" => Err(UrlError::Invalid(raw.to_string())),
        other => Err(UrlError::Scheme {
            scheme: other.to_string(),
            url: raw.to_string(),
        }),
    }
}

/// The dedup key: https scheme, lower-case host without `www.`/`m.`/`amp.`, no default port,
/// no fragment, no tracking parameters, sorted query, no duplicate or trailing slashes, no AMP
/// path forms. Two URLs of the same article map to the same string.
pub fn canonical_url(raw: &str) -> Result<String, UrlError> {
    let url = parse_http_url(raw, None)?;
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let host = strip_host_prefixes(&host);
    let port = url
        .port()
        .filter(|p| !(*p == 80 || *p == 443))
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    let path = canonical_path(url.path());
    let mut params = kept_params(&url);
    params.retain(|(k, _)| !k.eq_ignore_ascii_case("amp"));
    params.sort();
    let query = encode_query(&params);
    Ok(format!("https://{host}{port}{path}{query}"))
}

/// The article URL with tracking parameters removed; everything else as the site gave it.
pub fn clean_url(raw: &str) -> Result<String, UrlError> {
    let mut url = parse_http_url(raw, None)?;
    let had_query = url.query().is_some();
    let params = kept_params(&url);
    if had_query {
        if params.is_empty() {
            url.set_query(None);
        } else {
            url.set_query(Some(encode_query(&params).trim_start_matches('?')));
        }
    }
    Ok(url.to_string())
}

fn strip_host_prefixes(host: &str) -> &str {
    for prefix in HOST_PREFIXES {
        if let Some(rest) = host.strip_prefix(prefix) {
            // Keep the prefix when stripping it would leave a bare TLD ("www.com").
            if rest.contains('.') {
                return rest;
            }
        }
    }
    host
}

fn canonical_path(path: &str) -> String {
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.first() == Some(&"amp") {
        segments.remove(0);
    }
    if segments.last() == Some(&"amp") {
        segments.pop();
    }
    let mut joined = format!("/{}", segments.join("/"));
    if let Some(stem) = joined.strip_suffix(".amp.html") {
        joined = format!("{stem}.html");
    } else if let Some(stem) = joined.strip_suffix(".amp") {
        joined = stem.to_string();
    }
    joined
}

fn is_tracking(key: &str, value: &str) -> bool {
    let key = key.to_ascii_lowercase();
    if TRACKING_PARAMS.contains(&key.as_str()) {
        return true;
    }
    if TRACKING_PREFIXES.iter().any(|p| key.starts_with(p)) {
        return true;
    }
    REFERRER_PARAMS.contains(&key.as_str())
        && REFERRER_VALUES.contains(&value.trim().to_ascii_lowercase().as_str())
}

fn kept_params(url: &Url) -> Vec<(String, String)> {
    url.query_pairs()
        .filter(|(k, v)| !is_tracking(k, v))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn encode_query(params: &[(String, String)]) -> String {
    if params.is_empty() {
        return String::new();
    }
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    format!("?{}", ser.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decorations_of_one_article_share_a_key() {
        let key = "https://example.com/posts/raft-explained";
        for raw in [
            "https://example.com/posts/raft-explained",
            "http://example.com/posts/raft-explained",
            "https://www.example.com/posts/raft-explained/",
            "https://EXAMPLE.com/posts/raft-explained#comments",
            "https://example.com:443/posts/raft-explained",
            "http://example.com:80/posts//raft-explained",
            "https://m.example.com/posts/raft-explained",
            "https://example.com/posts/raft-explained?utm_source=hn&utm_medium=social",
            "https://example.com/posts/raft-explained?fbclid=abc123&gclid=x",
            "https://example.com/posts/raft-explained?ref=hackernews",
            "https://example.com/posts/raft-explained/amp",
            "https://example.com/amp/posts/raft-explained",
            "https://example.com/posts/raft-explained?amp=1",
        ] {
            assert_eq!(canonical_url(raw).unwrap(), key, "for {raw}");
        }
    }

    #[test]
    fn meaningful_differences_are_kept() {
        let cases = [
            (
                "https://example.com/?p=2&a=1",
                "https://example.com/?a=1&p=2",
            ),
            ("https://example.com/", "https://example.com/"),
            ("https://example.com", "https://example.com/"),
            ("https://example.com:8443/x/", "https://example.com:8443/x"),
            (
                "https://example.com/x?ref=v2-docs",
                "https://example.com/x?ref=v2-docs",
            ),
            ("https://www.com/a", "https://www.com/a"),
            (
                "https://blog.example.com/A/B",
                "https://blog.example.com/A/B",
            ),
            (
                "https://example.com/page.amp.html",
                "https://example.com/page.html",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(canonical_url(raw).unwrap(), want, "for {raw}");
        }
        assert_ne!(
            canonical_url("https://example.com/a").unwrap(),
            canonical_url("https://example.com/b").unwrap()
        );
    }

    #[test]
    fn bad_urls_are_errors() {
        assert!(matches!(
            canonical_url("not a url"),
            Err(UrlError::Invalid(_))
        ));
        assert!(matches!(
            canonical_url("/relative/path"),
            Err(UrlError::Invalid(_))
        ));
        assert!(matches!(
            canonical_url("javascript:alert(1)"),
            Err(UrlError::Scheme { .. })
        ));
        assert!(matches!(
            canonical_url("ftp://x.org/f"),
            Err(UrlError::Scheme { .. })
        ));
    }

    #[test]
    fn clean_url_only_drops_tracking() {
        assert_eq!(
            clean_url("http://www.example.com/a/?utm_source=x&id=3#frag").unwrap(),
            "http://www.example.com/a/?id=3#frag"
        );
        assert_eq!(
            clean_url("https://example.com/a?utm_campaign=y").unwrap(),
            "https://example.com/a"
        );
    }

    #[test]
    fn relative_urls_resolve_against_a_base() {
        let base = Url::parse("https://blog.example.org/feed.xml").unwrap();
        assert_eq!(
            parse_http_url("/posts/1", Some(&base)).unwrap().as_str(),
            "https://blog.example.org/posts/1"
        );
    }
}
