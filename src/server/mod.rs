//! The HTTP server: topic feeds, pages and embeds from a cache of rendered bytes (conditional
//! GET, compression, CORS), the index, OPML, `/healthz` and `/metrics`. `run` serves until
//! the shutdown future completes.

mod cache;
mod conditional;
mod encoding;
pub mod health;
pub mod listener;
pub mod query;
pub mod views;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Store;
use axum::extract::{MatchedPath, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use cache::{RenderCache, RenderInfo, Rendered};
use chrono::Utc;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;
use views::View;

pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    cache: RenderCache,
}

impl AppState {
    pub fn new(config: Arc<Config>, store: Store, metrics: Arc<Metrics>) -> Arc<AppState> {
        Arc::new(AppState {
            config,
            store,
            metrics,
            cache: RenderCache::default(),
        })
    }
}

/// The state requests see now. A reload builds a whole new `AppState` (config, empty render
/// cache) and swaps it in; requests in flight keep the one they started with.
pub struct Live {
    current: std::sync::RwLock<Arc<AppState>>,
}

impl Live {
    pub fn new(state: Arc<AppState>) -> Arc<Live> {
        Arc::new(Live {
            current: std::sync::RwLock::new(state),
        })
    }

    pub fn get(&self) -> Arc<AppState> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn swap(&self, state: Arc<AppState>) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = state;
    }
}

pub fn router(state: Arc<Live>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/opml", get(opml))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/t/{name}", get(topic))
        .route("/t/{slug}/embed", get(embed))
        .route("/api/explain/{slug}", get(explain))
        .route_layer(middleware::from_fn_with_state(Arc::clone(&state), track))
        .fallback(not_found)
        .with_state(state)
}

/// Serves on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn run(
    listener: TcpListener,
    live: Arc<Live>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let config = Arc::clone(&live.get().config);
    let limits = listener::Limits {
        header_read_timeout: config.server.header_timeout,
        max_connections: config.server.max_connections,
        ..listener::Limits::default()
    };
    listener::serve(listener, router(live), limits, shutdown).await
}

/// Counts every routed request by route and status, with its latency.
async fn track(
    State(live): State<Arc<Live>>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    // Routes are patterns ("/t/{name}"), never raw paths: the label set stays fixed.
    let route = matched.as_ref().map_or("other", MatchedPath::as_str);
    let response = next.run(request).await;
    live.get()
        .metrics
        .record_request(route, response.status().as_u16(), started.elapsed());
    response
}

async fn not_found(State(live): State<Arc<Live>>) -> Response {
    let state = live.get();
    state
        .metrics
        .record_request("other", 404, std::time::Duration::ZERO);
    plain(
        StatusCode::NOT_FOUND,
        "not found: see / for the list of topics\n",
    )
}

async fn index(State(live): State<Arc<Live>>) -> Response {
    let state = live.get();
    let body = views::render_index(&state.config);
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

async fn opml(State(live): State<Arc<Live>>) -> Response {
    let state = live.get();
    let body = views::render_opml(&state.config);
    let mut response =
        ([(header::CONTENT_TYPE, "text/x-opml; charset=utf-8")], body).into_response();
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

async fn healthz(State(live): State<Arc<Live>>) -> Response {
    let state = live.get();
    let st = Arc::clone(&state);
    match tokio::task::spawn_blocking(move || health::report(&st.config, &st.store)).await {
        Ok(report) => json(report.to_string()),
        Err(e) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("health check failed: {e}\n"),
        ),
    }
}

async fn metrics(State(live): State<Arc<Live>>) -> Response {
    let state = live.get();
    let body = state.metrics.render(state.store.story_count());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

async fn topic(
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

async fn embed(
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
    // Made to be framed by other sites.
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors *"),
    );
    response
}

/// `?all=1` lists every candidate; `?story=URL` only that story.
async fn explain(
    State(live): State<Arc<Live>>,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let state = live.get();
    let Some(topic) = state.config.topic(&slug).cloned() else {
        return plain(
            StatusCode::NOT_FOUND,
            &format!("unknown topic {slug:?}: see / for the list of topics\n"),
        );
    };
    let mut filter = crate::select::explain::Filter::default();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "all" => filter.all = matches!(value.as_ref(), "1" | "true" | "yes"),
            "story" => match crate::normalize::canonical_url(&value) {
                Ok(u) => filter.canonical_url = Some(u),
                Err(e) => {
                    return plain(
                        StatusCode::BAD_REQUEST,
                        &format!("bad query parameter `story`: {e}\n"),
                    )
                }
            },
            _ => {}
        }
    }
    let st = Arc::clone(&state);
    match tokio::task::spawn_blocking(move || {
        views::explain_topic(&st.store, &topic, &filter, Utc::now())
    })
    .await
    {
        Ok(Ok(e)) => json(serde_json::to_string(&e).unwrap_or_default()),
        Ok(Err(e)) => plain(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e}\n")),
        Err(e) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("explain failed: {e}\n"),
        ),
    }
}

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
    let not_modified = conditional::not_modified(request, r.etags(), r.last_modified);
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        r.body(coding).into_response()
    };
    let h = response.headers_mut();
    if !not_modified {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(r.content_type),
        );
        if let Some(value) = coding.header_value() {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(value));
        }
    }
    h.insert(header::ETAG, r.etag_value(coding));
    h.insert(header::LAST_MODIFIED, r.last_modified_value.clone());
    h.insert(header::CACHE_CONTROL, r.cache_control.clone());
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

fn json(body: String) -> Response {
    let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

fn plain(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_string(),
    )
        .into_response()
}
