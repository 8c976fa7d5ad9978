//! The HTTP server: topic feeds, pages and embeds from a cache of rendered bytes (conditional
//! GET, compression, CORS), the index, OPML, `/healthz` and `/metrics`. `run` serves until
//! the shutdown future completes.

mod cache;
mod conditional;
mod encoding;
pub mod health;
pub mod listener;
pub mod query;
mod topic;
pub mod views;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Store;
use axum::extract::{MatchedPath, Path, RawQuery, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use cache::RenderCache;
use chrono::Utc;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;

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
        .route("/t/{name}", get(topic::feed_or_page))
        .route("/t/{slug}/embed", get(topic::embed))
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
