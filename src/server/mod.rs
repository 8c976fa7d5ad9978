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
use hyper::body::Incoming;
use hyper_util::service::TowerToHyperService;
use std::convert::Infallible;
use std::future::{Future, Ready};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
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

/// What hyper calls for each request. GETs of the topic routes, nearly all of the traffic,
/// are answered here (`topic::HotRoute`): a cache hit then skips the router's matching,
/// extractors, boxed services and middleware, which cost more CPU than the rest of the
/// request. Everything else goes to the router, which serves the topic routes too (HEAD,
/// percent-encoded paths) through the same `topic` functions.
#[derive(Clone)]
pub struct App {
    live: Arc<Live>,
    router: TowerToHyperService<Router>,
}

impl App {
    pub fn new(live: Arc<Live>) -> App {
        App {
            router: TowerToHyperService::new(router(Arc::clone(&live))),
            live,
        }
    }
}

impl hyper::service::Service<axum::http::Request<Incoming>> for App {
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, request: axum::http::Request<Incoming>) -> Answer {
        let Some(route) = topic::HotRoute::of(&request) else {
            return Answer::Later(Box::pin(self.router.call(request)));
        };
        // Counted as `track` counts what the router serves.
        let started = Instant::now();
        let state = self.live.get();
        let label = route.label();
        match topic::serve_hot(&state, route, &request) {
            topic::Reply::Now(response) => {
                record(&state, label, &response, started);
                Answer::Now(std::future::ready(Ok(response)))
            }
            topic::Reply::Later(rendering) => Answer::Later(Box::pin(async move {
                let response = rendering.await;
                record(&state, label, &response, started);
                Ok(response)
            })),
        }
    }
}

fn record(state: &AppState, route: &str, response: &Response, started: Instant) {
    state
        .metrics
        .record_request(route, response.status().as_u16(), started.elapsed());
}

/// `App`'s response: ready at once (no allocation for a cache hit), or boxed.
pub enum Answer {
    Now(Ready<Result<Response, Infallible>>),
    Later(Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>),
}

impl Future for Answer {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Answer::Now(ready) => Pin::new(ready).poll(cx),
            Answer::Later(future) => future.as_mut().poll(cx),
        }
    }
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
    listener::serve(listener, App::new(live), limits, shutdown).await
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
