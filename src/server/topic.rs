//! A topic's feed, page or embed: narrowing parameters checked, the cached response reused
//! while it is fresh (one render per key otherwise), and answered with conditional GET,
//! the best coding the client accepts, and caching and CORS headers.

use super::cache::{RenderInfo, Rendered, Slot};
use super::{conditional, encoding, query, AppState, Error, Live};
use crate::topics::views::{self, View};
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A GET of a topic route whose path the router would match the same way and hand over
/// undecoded: `/t/{name}` or `/t/{slug}/embed`, no empty segment, no `%`. These are nearly
/// all of the traffic, and `App` answers them without the router; HEAD, other methods and
/// percent-encoded paths go through the router to `feed_or_page` and `embed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HotRoute<'a> {
    /// `/t/{name}`
    Name(&'a str),
    /// `/t/{slug}/embed`
    Embed(&'a str),
}

impl<'a> HotRoute<'a> {
    pub(super) fn of<B>(request: &'a axum::http::Request<B>) -> Option<HotRoute<'a>> {
        if request.method() != Method::GET {
            return None;
        }
        let rest = request.uri().path().strip_prefix("/t/")?;
        if rest.contains('%') {
            return None;
        }
        match rest.split_once('/') {
            None if !rest.is_empty() => Some(HotRoute::Name(rest)),
            Some((slug, "embed")) if !slug.is_empty() => Some(HotRoute::Embed(slug)),
            _ => None,
        }
    }

    /// The route as the metrics name it (the router's pattern).
    pub(super) fn label(self) -> &'static str {
        match self {
            HotRoute::Name(_) => "/t/{name}",
            HotRoute::Embed(_) => "/t/{slug}/embed",
        }
    }
}

/// A topic request's response: at once (a cache hit, or an error), or after a render.
pub(super) enum Reply {
    Now(Response),
    Later(Pin<Box<dyn Future<Output = Response> + Send>>),
}

impl Reply {
    pub(super) async fn finish(self) -> Response {
        match self {
            Reply::Now(response) => response,
            Reply::Later(rendering) => rendering.await,
        }
    }

    fn map(self, f: fn(Response) -> Response) -> Reply {
        match self {
            Reply::Now(response) => Reply::Now(f(response)),
            Reply::Later(rendering) => Reply::Later(Box::pin(async move { f(rendering.await) })),
        }
    }
}

/// Answers a hot route's request as `feed_or_page` or `embed` would.
pub(super) fn serve_hot<B>(
    state: &Arc<AppState>,
    route: HotRoute<'_>,
    request: &axum::http::Request<B>,
) -> Reply {
    let (uri, headers) = (request.uri(), request.headers());
    match route {
        HotRoute::Name(name) => serve_name(state, name, uri, headers),
        HotRoute::Embed(slug) => serve_embed(state, slug, uri, headers),
    }
}

pub(super) async fn feed_or_page(
    State(live): State<Arc<Live>>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    serve_name(&live.get(), &name, request.uri(), request.headers())
        .finish()
        .await
}

pub(super) async fn embed(
    State(live): State<Arc<Live>>,
    Path(slug): Path<String>,
    request: Request,
) -> Response {
    serve_embed(&live.get(), &slug, request.uri(), request.headers())
        .finish()
        .await
}

/// `/t/{name}`: a feed (`slug.rss`, `.atom`, `.json`) or the page (the bare slug).
fn serve_name(state: &Arc<AppState>, name: &str, uri: &Uri, headers: &HeaderMap) -> Reply {
    match View::parse(name) {
        (slug, Some(view)) => serve_topic(state, &slug, view, uri, headers),
        (_, None) => Reply::Now(
            Error::NotFound(format!(
                "unknown format in {name:?}: use .rss, .atom or .json"
            ))
            .into_response(),
        ),
    }
}

fn serve_embed(state: &Arc<AppState>, slug: &str, uri: &Uri, headers: &HeaderMap) -> Reply {
    // Rendered embeds carry the framing policy already; errors get it here.
    serve_topic(state, slug, View::Embed, uri, headers).map(|mut response| {
        let [(name, value)] = &FRAMEABLE;
        response
            .headers_mut()
            .entry(name)
            .or_insert_with(|| value.clone());
        response
    })
}

/// What an embed adds to every response: it is made to be framed by other sites.
static FRAMEABLE: [(HeaderName, HeaderValue); 1] = [(
    header::CONTENT_SECURITY_POLICY,
    HeaderValue::from_static("frame-ancestors *"),
)];

/// The cached response when it is fresh; otherwise a render, one per key at a time.
fn serve_topic(
    state: &Arc<AppState>,
    slug: &str,
    view: View,
    uri: &Uri,
    headers: &HeaderMap,
) -> Reply {
    let Some(topic) = state.config.topic(slug) else {
        return Reply::Now(Error::unknown_topic(slug).into_response());
    };
    let narrowing = match query::parse(uri.query(), topic) {
        Ok(n) => n,
        Err(bad) => return Reply::Now(Error::BadRequest(bad.to_string()).into_response()),
    };
    // Keyed by what is shown, not how it was asked for: unknown parameters and other
    // spellings of the same narrowing share one entry (and one self link).
    let canonical = narrowing.canonical_query();
    let key = cache_key(uri, slug, view, &canonical);
    let slot = state.cache.slot(&key);
    if let Some(r) = state.fresh(&slot) {
        state.metrics.cache_hit();
        return Reply::Now(respond(&r, headers));
    }
    let job = RenderJob {
        state: Arc::clone(state),
        slot,
        narrowed: narrowing.apply(topic),
        max_age: views::max_age(&state.config, topic),
        view,
        requested: if canonical.is_empty() {
            String::new()
        } else {
            format!("?{canonical}")
        },
        key: key.into_owned(),
    };
    let headers = headers.clone();
    Reply::Later(Box::pin(job.run(headers)))
}

/// The cache key: the view's path and the canonical narrowing. Borrowed from the request
/// when it is spelled that way already (nearly every request: a hit then allocates nothing).
fn cache_key<'u>(uri: &'u Uri, slug: &str, view: View, canonical: &str) -> Cow<'u, str> {
    let query = uri.query().unwrap_or_default();
    if query == canonical && view.is_path(slug, uri.path()) {
        return Cow::Borrowed(match uri.path_and_query() {
            Some(pq) if !query.is_empty() => pq.as_str(),
            _ => uri.path(),
        });
    }
    let path = view.path(slug);
    Cow::Owned(if canonical.is_empty() {
        path
    } else {
        format!("{path}?{canonical}")
    })
}

/// A render of a missed key, and what describes it.
struct RenderJob {
    state: Arc<AppState>,
    slot: Arc<Slot>,
    narrowed: crate::select::Topic,
    max_age: u64,
    view: View,
    /// The query of the self link: the canonical narrowing.
    requested: String,
    key: String,
}

impl RenderJob {
    async fn run(self, headers: HeaderMap) -> Response {
        let RenderJob {
            state,
            slot,
            narrowed,
            max_age,
            view,
            requested,
            key,
        } = self;
        cached(
            state,
            &key,
            &slot,
            &headers,
            "render",
            move |st, generation, now| {
                let render =
                    views::render_topic(&st.config, &st.store, &narrowed, view, &requested, now)?;
                let info = RenderInfo {
                    last_modified: render.updated.into(),
                    content_type: view.content_type(),
                    max_age,
                    generation,
                    valid_until: render.valid_until,
                    extra_headers: match view {
                        View::Embed => &FRAMEABLE,
                        _ => &[],
                    },
                };
                Ok(Rendered::new(render.bytes, info))
            },
        )
        .await
    }
}

/// The response of `key` from the cache, or made by `build` and kept: one build per key at a
/// time (whoever waited finds the fresh response when it gets the lock), off the async
/// threads, after filing what the topic indexes lack when no writer is busy. `build` gets
/// the store generation the response will be valid for, and the time. When `build` fails,
/// the last response made for the key is served stale, if there is one.
pub(super) async fn cached<F>(
    state: Arc<AppState>,
    key: &str,
    slot: &Arc<Slot>,
    headers: &HeaderMap,
    what: &'static str,
    build: F,
) -> Response
where
    F: FnOnce(&AppState, u64, chrono::DateTime<Utc>) -> Result<Rendered, Error> + Send + 'static,
{
    let _rendering = slot.render_lock().await;
    let now = Utc::now();
    if let Some(r) = slot.fresh(state.epoch, state.store.generation(), now) {
        state.metrics.cache_hit();
        return respond(&r, headers);
    }
    state.metrics.cache_miss();
    let st = Arc::clone(&state);
    let built = tokio::task::spawn_blocking(move || {
        // Files what the daemon has not yet, when no writer is busy; never waits.
        if let Err(e) = st.store.try_catch_up_indexes() {
            // Serve the index as last filed: a full disk must not fail a read.
            tracing::warn!(error = %e, "topic indexes not caught up before a {what}");
        }
        let generation = st.store.generation();
        build(&st, generation, now)
    })
    .await;
    match built {
        Ok(Ok(r)) => {
            let r = Arc::new(r);
            state.cache.put(key, slot, state.epoch, Arc::clone(&r));
            respond(&r, headers)
        }
        // A store that cannot be read now (a full disk makes sled refuse) must not take the
        // feed down: the last response made is served, stale, while there is one.
        Ok(Err(e)) => match slot.last() {
            Some(stale) => {
                tracing::warn!(error = %e, key, "serving the last {what} made: a new one failed");
                respond(&stale, headers)
            }
            None => e.into_response(),
        },
        Err(e) => super::error::task_failed(what, e).into_response(),
    }
}

/// The cached bytes with their validators, in the best coding the client accepts, or a 304.
pub(super) fn respond(r: &Rendered, request: &HeaderMap) -> Response {
    let accept = request
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let coding = encoding::negotiate(accept);
    let (status, body, head) = if conditional::not_modified(request, r.etags(), r.last_modified) {
        (
            StatusCode::NOT_MODIFIED,
            Body::empty(),
            r.not_modified_head(coding),
        )
    } else {
        (
            StatusCode::OK,
            Body::from(r.body(coding)),
            r.ok_head(coding),
        )
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = head.clone();
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, target: &str) -> axum::http::Request<()> {
        axum::http::Request::builder()
            .method(method)
            .uri(target)
            .body(())
            .unwrap()
    }

    #[test]
    fn hot_routes_are_plain_gets_of_the_topic_patterns() {
        let hot = |target: &str| HotRoute::of(&request(Method::GET, target)).map(HotRoute::label);
        assert_eq!(
            HotRoute::of(&request(Method::GET, "/t/rust.rss?limit=3")),
            Some(HotRoute::Name("rust.rss"))
        );
        assert_eq!(
            HotRoute::of(&request(Method::GET, "/t/rust/embed")),
            Some(HotRoute::Embed("rust"))
        );
        assert_eq!(hot("/t/rust"), Some("/t/{name}"));
        assert_eq!(hot("/t/rust/embed"), Some("/t/{slug}/embed"));
        // Left to the router: what it would not match, or would decode first.
        for target in [
            "/t/",
            "/t//embed",
            "/t/rust/",
            "/t/rust/embed/",
            "/t/rust/embed/x",
            "/t/rust/other",
            "/t/ru%73t.rss",
            "/tt/rust.rss",
            "/",
        ] {
            assert_eq!(hot(target), None, "{target}");
        }
        for method in [Method::HEAD, Method::POST] {
            assert_eq!(HotRoute::of(&request(method, "/t/rust.rss")), None);
        }
    }

    #[test]
    fn cache_keys_are_the_canonical_address_borrowed_when_asked_that_way() {
        let key = |target: &str, canonical: &str, view: View| {
            let uri = target.parse::<Uri>().unwrap();
            let key = cache_key(&uri, "rust", view, canonical);
            (key.to_string(), matches!(key, Cow::Borrowed(_)))
        };
        let rss = View::Feed(crate::render::Format::Rss);
        assert_eq!(key("/t/rust.rss", "", rss), ("/t/rust.rss".into(), true));
        assert_eq!(key("/t/rust.rss?", "", rss), ("/t/rust.rss".into(), true));
        assert_eq!(
            key("/t/rust.rss?limit=3", "limit=3", rss),
            ("/t/rust.rss?limit=3".into(), true)
        );
        assert_eq!(
            key("/t/rust.rss?limit=3&junk=1", "limit=3", rss),
            ("/t/rust.rss?limit=3".into(), false),
            "another spelling shares the entry"
        );
        assert_eq!(
            key("/t/ru%73t.rss", "", rss),
            ("/t/rust.rss".into(), false),
            "a percent-encoded path is keyed as decoded"
        );
        assert_eq!(
            key("/t/rust/embed", "", View::Embed),
            ("/t/rust/embed".into(), true)
        );
        assert_eq!(key("/t/rust", "", View::Page), ("/t/rust".into(), true));
        assert_ne!(
            key("/t/rust", "", View::Page).0,
            key("/t/rust/embed", "", View::Embed).0
        );
    }

    /// What `cached` answers for `/t/t.rss` when the render fails: status and body.
    async fn when_the_render_fails(state: &Arc<AppState>) -> (StatusCode, Vec<u8>) {
        let slot = state.cache.slot("/t/t.rss");
        let response = cached(
            Arc::clone(state),
            "/t/t.rss",
            &slot,
            &HeaderMap::new(),
            "render",
            |_, _, _| Err(Error::Internal("store: the disk is full".into())),
        )
        .await;
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, body.to_vec())
    }

    #[tokio::test]
    async fn a_render_that_fails_serves_the_last_response_made() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::config::Config::parse(
            std::path::Path::new("feeds.toml"),
            "[[source]]\nid = \"a\"\nkind = \"feed\"\nurl = \"http://127.0.0.1:9/\"\n\n[[topic]]\nslug = \"t\"\ntitle = \"T\"\n",
        )
        .unwrap();
        let state = AppState::new(
            Arc::new(config),
            crate::store::Store::open(dir.path()).unwrap(),
            Arc::default(),
        );
        let (status, _) = when_the_render_fails(&state).await;
        assert_eq!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "nothing to fall back on"
        );
        let slot = state.cache.slot("/t/t.rss");
        let made = cached(
            Arc::clone(&state),
            "/t/t.rss",
            &slot,
            &HeaderMap::new(),
            "render",
            |_, generation, _| {
                // Stale as soon as it is made (an item left the window): the next request
                // renders.
                let info = RenderInfo {
                    last_modified: std::time::SystemTime::UNIX_EPOCH,
                    content_type: "application/rss+xml",
                    max_age: 60,
                    generation,
                    valid_until: Some(chrono::DateTime::<Utc>::UNIX_EPOCH),
                    extra_headers: &[],
                };
                Ok(Rendered::new(b"<rss>old</rss>".to_vec(), info))
            },
        )
        .await;
        assert_eq!(made.status(), StatusCode::OK);
        assert!(state.fresh(&slot).is_none());
        let served = (StatusCode::OK, b"<rss>old</rss>".to_vec());
        assert_eq!(when_the_render_fails(&state).await, served);
        // After a reload the first render under the new config may fail too.
        let reloaded = state.reloaded(Arc::clone(&state.config));
        assert_eq!(when_the_render_fails(&reloaded).await, served);
    }
}
