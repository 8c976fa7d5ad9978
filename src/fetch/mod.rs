//! The HTTP client: conditional GET with stored validators, connect and total timeouts, a
//! body cap counted after decompression, bounded redirects that never downgrade https, and
//! the address guard: operator-configured URLs reach wherever they point on their first hop;
//! URLs from source content (article pages) and every redirect hop reach only public
//! addresses unless `allow_private_networks` is on (see `guard`).
//! Knows nothing of formats: bytes in, bytes out.

pub mod charset;
pub mod guard;
mod post;
pub(crate) mod redirect;

use reqwest::header::{
    HeaderMap, HeaderValue, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED, LOCATION, RETRY_AFTER,
};
use reqwest::StatusCode;
use std::time::Duration;
use url::Url;

pub const MAX_REDIRECTS: usize = 10;
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq)]
pub struct FetchSettings {
    pub user_agent: String,
    pub timeout: Duration,
    pub max_body: u64,
    /// Lets content URLs and redirect hops reach loopback and private addresses too.
    pub allow_private_networks: bool,
}

/// Who chose the URL of a fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The operator, in feeds.toml: the first hop may go anywhere.
    Operator,
    /// Source content (an article link): every hop must reach a public address.
    Content,
}

/// A successful exchange.
#[derive(Debug)]
pub enum Fetched {
    /// 304: nothing changed since the validators we sent.
    NotModified {
        etag: Option<String>,
        last_modified: Option<String>,
        /// Set when every redirect on the way was permanent (301/308): the new address.
        moved_to: Option<Url>,
    },
    Body(Body),
}

#[derive(Debug)]
pub struct Body {
    /// The body decoded to UTF-8 (see `charset`).
    pub bytes: Vec<u8>,
    /// The charset the body was decoded from.
    pub charset: &'static str,
    /// Set when every redirect on the way was permanent (301/308): the new address.
    pub moved_to: Option<Url>,
    /// The server's `Cache-Control: max-age`, a hint for the poll interval.
    pub max_age: Option<Duration>,
    /// Where the bytes came from after redirects.
    pub final_url: Url,
    pub status: u16,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_type: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("HTTP {status}{}", retry_after.map(|s| format!(", retry after {} s", s.as_secs())).unwrap_or_default())]
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("body larger than the {limit}-byte cap (max_body)")]
    TooLarge { limit: u64 },
    #[error("redirect refused: {0}")]
    Redirect(String),
    /// The address guard refused where the fetch would connect (final: retrying cannot help).
    #[error("refused: {0} (allow_private_networks is off)")]
    Refused(String),
    #[error("body cut off: {0}")]
    Body(String),
    #[error("cannot decode body: {0}")]
    Decode(String),
    #[error("{0}")]
    Other(String),
}

impl FetchError {
    /// The HTTP status, when a response arrived.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct Fetcher {
    /// Resolves with the system resolver: for the first hop of operator URLs.
    open: reqwest::Client,
    /// Connects only to public addresses (`guard::PublicResolver`): for content URLs and
    /// redirect hops. The same client as `open` when private networks are allowed.
    public: reqwest::Client,
    settings: FetchSettings,
}

impl Fetcher {
    pub fn new(settings: FetchSettings) -> Result<Fetcher, FetchError> {
        let open = Self::client(&settings, false)?;
        let public = if settings.allow_private_networks {
            open.clone()
        } else {
            Self::client(&settings, true)?
        };
        Ok(Fetcher {
            open,
            public,
            settings,
        })
    }

    fn client(settings: &FetchSettings, public_only: bool) -> Result<reqwest::Client, FetchError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .connect_timeout(CONNECT_TIMEOUT.min(settings.timeout))
            .read_timeout(settings.timeout)
            .timeout(settings.timeout)
            // Redirects are followed by hand: to refuse https -> http, check every hop's
            // address and record moves.
            .redirect(reqwest::redirect::Policy::none())
            // No HTTP(S)_PROXY from the environment: a proxy would resolve and connect on
            // our behalf, out of the guard's sight.
            .no_proxy()
            .gzip(true)
            .brotli(true);
        if public_only {
            builder = builder.dns_resolver(std::sync::Arc::new(guard::PublicResolver));
        }
        builder
            .build()
            .map_err(|e| FetchError::Other(format!("cannot build HTTP client: {e}")))
    }

    /// GETs `url`, an operator-configured address, sending back the stored validators and
    /// following at most `MAX_REDIRECTS` redirects (each to public addresses only). The
    /// whole exchange, redirects included, is bounded by the configured timeout.
    pub async fn get(
        &self,
        url: &Url,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<Fetched, FetchError> {
        self.get_from(Origin::Operator, url, etag, last_modified)
            .await
    }

    /// GETs `url`, an address taken from source content: every hop reaches public
    /// addresses only (unless `allow_private_networks`).
    pub async fn get_content(&self, url: &Url) -> Result<Fetched, FetchError> {
        self.get_from(Origin::Content, url, None, None).await
    }

    /// GETs `url` with the address rules of `origin`.
    pub async fn get_from(
        &self,
        origin: Origin,
        url: &Url,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<Fetched, FetchError> {
        tokio::time::timeout(
            self.settings.timeout,
            self.exchange(origin, url, etag, last_modified),
        )
        .await
        .unwrap_or(Err(FetchError::Timeout(self.settings.timeout)))
    }

    async fn exchange(
        &self,
        origin: Origin,
        url: &Url,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<Fetched, FetchError> {
        let guarded = !self.settings.allow_private_networks;
        let mut current = url.clone();
        let mut moved_to = None;
        let mut only_permanent = true;
        let mut hops = 0;
        let mut response = loop {
            // Redirect hops were checked by `next_hop`; a content URL's first hop here.
            let public_only = guarded && (hops > 0 || origin == Origin::Content);
            if public_only && hops == 0 {
                guard::check_url(&current).map_err(|r| FetchError::Refused(r.to_string()))?;
            }
            let client = if public_only {
                &self.public
            } else {
                &self.open
            };
            let mut request = client.get(current.clone());
            // Validators go back byte for byte, non-ASCII included (HTTP allows obs-text).
            if let Some(etag) = etag.and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok()) {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(lm) = last_modified.and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok())
            {
                request = request.header(IF_MODIFIED_SINCE, lm);
            }
            let response = request.send().await.map_err(|e| match self.classify(e) {
                FetchError::Refused(why) if hops > 0 => {
                    FetchError::Refused(format!("redirect to {current}: {why}"))
                }
                other => other,
            })?;
            let status = response.status();
            if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
                break response;
            }
            // A raw UTF-8 Location is still a Location: `join` percent-encodes it.
            let location = response
                .headers()
                .get(LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string());
            let next = redirect::next_hop(&current, status, location.as_deref(), guarded)?;
            hops += 1;
            if hops > MAX_REDIRECTS {
                return Err(FetchError::Redirect(format!(
                    "more than {MAX_REDIRECTS} redirects (last to {next})"
                )));
            }
            only_permanent &= redirect::is_permanent(status);
            moved_to = only_permanent.then(|| next.clone());
            current = next;
        };
        let status = response.status();
        let headers = response.headers().clone();
        let etag = header_text(&headers, ETAG);
        let last_modified = header_text(&headers, LAST_MODIFIED);
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified {
                etag,
                last_modified,
                moved_to,
            });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after: header_text(&headers, RETRY_AFTER).and_then(|v| parse_retry_after(&v)),
            });
        }
        let limit = self.settings.max_body;
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(FetchError::TooLarge { limit });
        }
        let mut bytes = Vec::new();
        // Chunks arrive decompressed, so the cap also stops a gzip bomb early.
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(e))? {
            if bytes.len() as u64 + chunk.len() as u64 > limit {
                return Err(FetchError::TooLarge { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        let content_type = header_text(&headers, CONTENT_TYPE);
        let (utf8, charset) = charset::to_utf8(&bytes, content_type.as_deref());
        let bytes = match utf8 {
            std::borrow::Cow::Borrowed(_) => bytes,
            std::borrow::Cow::Owned(decoded) => decoded,
        };
        Ok(Fetched::Body(Body {
            bytes,
            charset,
            moved_to,
            max_age: header_text(&headers, CACHE_CONTROL).and_then(|v| parse_max_age(&v)),
            final_url: current,
            status: status.as_u16(),
            etag,
            last_modified,
            content_type,
        }))
    }

    fn classify(&self, e: reqwest::Error) -> FetchError {
        if let Some(refused) = guard::refusal_in(&e) {
            FetchError::Refused(refused.to_string())
        } else if e.is_timeout() {
            FetchError::Timeout(self.settings.timeout)
        } else if e.is_connect() {
            FetchError::Connect(error_chain(&e))
        } else if e.is_body() || e.is_decode() {
            // reqwest says "error decoding response body" for any failure while reading the
            // body; the innermost cause says what happened.
            let cause = root_cause(&e);
            match io_error_kind(&e) {
                Some(std::io::ErrorKind::InvalidData) => FetchError::Decode(cause),
                _ => FetchError::Body(cause),
            }
        } else {
            FetchError::Other(error_chain(&e))
        }
    }
}

/// `max-age` of a Cache-Control value (ignored when `no-cache`/`no-store` say otherwise).
pub fn parse_max_age(value: &str) -> Option<Duration> {
    let lower = value.to_ascii_lowercase();
    if lower.contains("no-store") || lower.contains("no-cache") {
        return None;
    }
    lower.split(',').find_map(|d| {
        d.trim()
            .strip_prefix("max-age=")?
            .trim()
            .parse()
            .ok()
            .map(Duration::from_secs)
    })
}

/// A header's value as text: any UTF-8 (not only ASCII), trimmed; `None` when absent or empty.
fn header_text(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Retry-After as seconds or as an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value.trim()).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The error and its causes on one line ("error sending request: connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The innermost cause of an error ("Connection reset by peer (os error 104)").
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

/// The kind of the first I/O error among the causes of `e`.
fn io_error_kind(e: &dyn std::error::Error) -> Option<std::io::ErrorKind> {
    let mut cause = e.source();
    while let Some(inner) = cause {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cause = inner.source();
    }
    None
}

#[cfg(test)]
mod tests;
