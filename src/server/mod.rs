//! The HTTP server: topic feeds and pages from a cache of rendered bytes, conditional GET,
//! the topic index and `/healthz`. `run` serves until the shutdown future completes.

mod cache;
mod conditional;
pub mod health;
pub mod views;

use crate::config::Config;
use crate::store::Store;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use cache::{Freshness, RenderCache, Rendered};
use chrono::{DateTime, Utc};
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use views::View;

pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    /// Dates feeds that have no items yet.
    pub started: DateTime<Utc>,
    cache: RenderCache,
}

impl AppState {
    pub fn new(config: Arc<Config>, store: Store) -> Arc<AppState> {
        Arc::new(AppState {
            config,
            store,
            started: Utc::now(),
            cache: RenderCache::default(),
        })
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/t/{name}", get(topic))
        .fallback(|| async {
            plain(
                StatusCode::NOT_FOUND,
                "not found: see / for the list of topics\n",
            )
        })
        .with_state(state)
}

/// Serves on `listener` until `shutdown` completes, then finishes requests in flight.
pub async fn run(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn index(State(state): State<Arc<AppState>>) -> Response {
    let body = views::render_index(&state.config);
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let st = Arc::clone(&state);
    match tokio::task::spawn_blocking(move || health::report(&st.config, &st.store)).await {
        Ok(report) => (
            [(header::CONTENT_TYPE, "application/json")],
            report.to_string(),
        )
            .into_response(),
        Err(e) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("health check failed: {e}\n"),
        ),
    }
}

async fn topic(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (slug, view) = View::parse(&name);
    let Some(view) = view else {
        return plain(
            StatusCode::NOT_FOUND,
            &format!("unknown format in {name:?}: use .rss, .atom or .json\n"),
        );
    };
    let Some(topic) = state.config.topic(&slug) else {
        return plain(
            StatusCode::NOT_FOUND,
            &format!("unknown topic {slug:?}: see / for the list of topics\n"),
        );
    };
    let now = Utc::now();
    let fresh = Freshness {
        generation: state.store.generation(),
        minute: now.timestamp() / 60,
    };
    let key = name.clone();
    let rendered = match state.cache.get(&key, fresh) {
        Some(r) => r,
        None => {
            let st = Arc::clone(&state);
            let topic = topic.clone();
            let built = tokio::task::spawn_blocking(move || {
                views::render_topic(&st.config, &st.store, &topic, view, now, st.started)
            })
            .await;
            match built {
                Ok(Ok((bytes, updated))) => {
                    let r = Arc::new(Rendered::new(bytes, updated.into(), view.content_type()));
                    state.cache.put(key, fresh, Arc::clone(&r));
                    r
                }
                Ok(Err(e)) => return plain(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e}\n")),
                Err(e) => {
                    return plain(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &format!("render failed: {e}\n"),
                    )
                }
            }
        }
    };
    let max_age = views::max_age(&state.config, topic);
    respond(&rendered, &headers, max_age)
}

fn respond(r: &Rendered, request: &HeaderMap, max_age: u64) -> Response {
    let not_modified = conditional::not_modified(request, &r.etag, r.last_modified);
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        r.bytes.clone().into_response()
    };
    let h = response.headers_mut();
    if !not_modified {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(r.content_type),
        );
    }
    if let Ok(v) = HeaderValue::from_str(&r.etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(r.last_modified)) {
        h.insert(header::LAST_MODIFIED, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        h.insert(header::CACHE_CONTROL, v);
    }
    h.insert(
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
