//! A topic's feed, page or embed: narrowing parameters checked, the cached response reused
//! while it is fresh (one render per key otherwise), and answered with conditional GET,
//! the best coding the client accepts, and caching and CORS headers.

use super::cache::{RenderInfo, Rendered};
use super::views::{self, View};
use super::{conditional, encoding, plain, query, AppState, Live};
use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::Utc;
use std::sync::Arc;

pub(super) async fn feed_or_page(
    State(live): State<Arc<Live>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let state = live.get();
    let (slug, view) = View::parse(&name);
    match view {
        Some(view) => serve_topic(state, &slug, view, query.as_deref(), request.headers()).await,
        None => plain(
            StatusCode::NOT_FOUND,
            &format!("unknown format in {name:?}: use .rss, .atom or .json\n"),
        ),
    }
}

pub(super) async fn embed(
    State(live): State<Arc<Live>>,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let state = live.get();
    let mut response = serve_topic(
        state,
        &slug,
        View::Embed,
        query.as_deref(),
        request.headers(),
    )
    .await;
    // Rendered embeds carry it already; errors get it too.
    let [(name, value)] = &FRAMEABLE;
    response
        .headers_mut()
        .entry(name)
        .or_insert_with(|| value.clone());
    response
}

/// What an embed adds to every response: it is made to be framed by other sites.
static FRAMEABLE: [(HeaderName, HeaderValue); 1] = [(
    header::CONTENT_SECURITY_POLICY,
    HeaderValue::from_static("frame-ancestors *"),
)];

async fn serve_topic(
    state: Arc<AppState>,
    slug: &str,
    view: View,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Response {
    let Some(topic) = state.config.topic(slug) else {
        return plain(
            StatusCode::NOT_FOUND,
            &format!("unknown topic {slug:?}: see / for the list of topics\n"),
        );
    };
    let narrowing = match query::parse(query, topic) {
        Ok(n) => n,
        Err(bad) => return plain(StatusCode::BAD_REQUEST, &format!("{bad}\n")),
    };
    // The self link is the address as requested (validators check it against the document
    // location); the cache is keyed by it too, so the two always agree.
    let requested = query
        .filter(|q| !q.is_empty())
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let slot = state.cache.slot(&format!("{slug}:{view:?}{requested}"));
    let generation = state.store.generation();
    if let Some(r) = slot.fresh(generation, Utc::now()) {
        state.metrics.cache_hit();
        return respond(&r, headers);
    }
    // One render per key: whoever waited here finds the fresh response when it gets the lock.
    let _rendering = slot.render_lock().await;
    let generation = state.store.generation();
    let now = Utc::now();
    if let Some(r) = slot.fresh(generation, now) {
        state.metrics.cache_hit();
        return respond(&r, headers);
    }
    state.metrics.cache_miss();
    let st = Arc::clone(&state);
    let narrowed = narrowing.apply(topic);
    let max_age = views::max_age(&state.config, topic);
    let built = tokio::task::spawn_blocking(move || {
        let render = views::render_topic(&st.config, &st.store, &narrowed, view, &requested, now)?;
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
        Ok::<_, crate::store::StoreError>(Rendered::new(render.bytes, info))
    })
    .await;
    match built {
        Ok(Ok(r)) => {
            let r = Arc::new(r);
            slot.put(Arc::clone(&r));
            respond(&r, headers)
        }
        Ok(Err(e)) => plain(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e}\n")),
        Err(e) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("render failed: {e}\n"),
        ),
    }
}

/// The cached bytes with their validators, in the best coding the client accepts, or a 304.
fn respond(r: &Rendered, request: &HeaderMap) -> Response {
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
