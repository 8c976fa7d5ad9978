//! The HTTP server: topic feeds, pages and embeds from a cache of rendered bytes (conditional
//! GET, compression, CORS), the index, OPML, `/healthz` and `/metrics`. `run` serves until
//! the shutdown future completes.

mod cache;
mod conditional;
mod encoding;
mod error;
pub(crate) mod listener;
mod query;
mod stall;
mod topic;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::topics::{health, views};
use axum::extract::{MatchedPath, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use cache::{Epoch, RenderCache, Rendered, Slot};
use chrono::Utc;
pub(crate) use error::Error;
use hyper::body::Incoming;
use hyper_util::service::TowerToHyperService;
use std::convert::Infallible;
use std::future::{Future, Ready};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// What the daemon hands the server: the config now (a reload sends a new one), the store
/// and the metrics.
pub(crate) struct Shared {
    pub(crate) config: watch::Receiver<Arc<Config>>,
    pub(crate) store: Store,
    pub(crate) metrics: Arc<Metrics>,
}

pub(crate) struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    /// Shared by every config's state: responses made under an older one are never fresh,
    /// but are what a failed render serves.
    cache: Arc<RenderCache>,
    epoch: Epoch,
}

impl AppState {
    fn new(config: Arc<Config>, store: Store, metrics: Arc<Metrics>) -> Arc<AppState> {
        Arc::new(AppState {
            cache: Arc::new(RenderCache::new(config.server.cache_bytes)),
            epoch: 0,
            config,
            store,
            metrics,
        })
    }

    /// The state of a reloaded config: the same store and cache, a new epoch.
    fn reloaded(&self, config: Arc<Config>) -> Arc<AppState> {
        self.cache.resize(config.server.cache_bytes);
        Arc::new(AppState {
            cache: Arc::clone(&self.cache),
            epoch: self.epoch + 1,
            config,
            store: self.store.clone(),
            metrics: Arc::clone(&self.metrics),
        })
    }

    /// The response in `slot` if it is right for this config and the store as it is now.
    fn fresh(&self, slot: &Slot) -> Option<Arc<Rendered>> {
        slot.fresh(self.epoch, self.store.generation(), Utc::now())
    }
}

/// The state requests see now. A new config builds a new `AppState` (its own epoch of the
/// render cache) and swaps it in; requests in flight keep the one they started with.
pub(crate) struct Live {
    current: std::sync::RwLock<Arc<AppState>>,
}

impl Live {
    fn new(state: Arc<AppState>) -> Arc<Live> {
        Arc::new(Live {
            current: std::sync::RwLock::new(state),
        })
    }

    fn get(&self) -> Arc<AppState> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }

    fn swap(&self, state: Arc<AppState>) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = state;
    }
}

fn router(state: Arc<Live>) -> Router {
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
        .layer(middleware::map_response(no_sniffing))
        .with_state(state)
}

/// Every response says its content type is meant: a browser must not sniff a feed as HTML.
async fn no_sniffing(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// What hyper calls for each request. GETs of the topic routes, nearly all of the traffic,
/// are answered here (`topic::HotRoute`): a cache hit then skips the router's matching,
/// extractors, boxed services and middleware, which cost more CPU than the rest of the
/// request. Everything else goes to the router, which serves the topic routes too (HEAD,
/// percent-encoded paths) through the same `topic` functions.
#[derive(Clone)]
pub(crate) struct App {
    live: Arc<Live>,
    router: TowerToHyperService<Router>,
}

impl App {
    fn new(live: Arc<Live>) -> App {
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
            let routed = self.router.call(request);
            return Answer::Later(Box::pin(async move {
                Ok(within_deadline(async { routed.await.unwrap_or_else(|e| match e {}) }).await)
            }));
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
                let response = within_deadline(rendering).await;
                record(&state, label, &response, started);
                Ok(response)
            })),
        }
    }
}

/// Longest a response may take to be ready: a render or a store stuck past it is answered
/// with 503, so no request holds a connection forever.
const RESPONSE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

async fn within_deadline(response: impl Future<Output = Response>) -> Response {
    match tokio::time::timeout(RESPONSE_DEADLINE, response).await {
        Ok(response) => response,
        Err(_) => Error::Unavailable(format!(
            "no response within {} s; try again later",
            RESPONSE_DEADLINE.as_secs()
        ))
        .into_response(),
    }
}

fn record(state: &AppState, route: &str, response: &Response, started: Instant) {
    state
        .metrics
        .record_request(route, response.status().as_u16(), started.elapsed());
}

/// `App`'s response: ready at once (no allocation for a cache hit), or boxed.
pub(crate) enum Answer {
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
/// Each config the daemon sends replaces the state requests see.
pub(crate) async fn run(
    listener: TcpListener,
    shared: Shared,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let Shared {
        mut config,
        store,
        metrics,
    } = shared;
    let current = Arc::clone(&config.borrow_and_update());
    let limits = listener::Limits {
        header_read_timeout: current.server.header_timeout,
        max_connections: current.server.max_connections,
        send_timeout: current.server.send_timeout,
        ..listener::Limits::default()
    };
    let live = Live::new(AppState::new(current, store, metrics));
    let follower = Arc::clone(&live);
    let follow = tokio::spawn(async move {
        while config.changed().await.is_ok() {
            let new = Arc::clone(&config.borrow_and_update());
            let reloaded = follower.get().reloaded(new);
            follower.swap(reloaded);
        }
    });
    let served = listener::serve(listener, App::new(live), limits, shutdown).await;
    follow.abort();
    served
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

async fn not_found(State(live): State<Arc<Live>>) -> Error {
    let state = live.get();
    state
        .metrics
        .record_request("other", 404, std::time::Duration::ZERO);
    Error::NotFound("not found: see / for the list of topics".into())
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

async fn healthz(State(live): State<Arc<Live>>) -> Result<Response, Error> {
    let state = live.get();
    let report = tokio::task::spawn_blocking(move || {
        health::with_push(health::report(&state.config, &state.store), &state.metrics)
    })
    .await
    .map_err(|e| error::task_failed("health check", e))?;
    let body = serde_json::to_string(&report).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(json(body))
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
/// How long an explanation is reused while the store does not change (it states the
/// window start it computed, which moves with the clock).
const EXPLAIN_REUSE: chrono::Duration = chrono::Duration::seconds(60);

/// `?all=1` lists every candidate; `?story=URL` only that story. Answers are bounded
/// (`views::explain_topic`) and cached like feeds.
async fn explain(
    State(live): State<Arc<Live>>,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let state = live.get();
    let Some(topic) = state.config.topic(&slug).cloned() else {
        return Err(Error::unknown_topic(&slug));
    };
    let mut filter = crate::select::explain::Filter::default();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "all" => filter.all = matches!(value.as_ref(), "1" | "true" | "yes"),
            "story" => match crate::normalize::canonical_url(&value) {
                Ok(u) => filter.canonical_url = Some(u),
                Err(e) => {
                    return Err(Error::BadRequest(format!(
                        "bad query parameter `story`: {e}"
                    )))
                }
            },
            _ => {}
        }
    }
    let key = format!(
        "explain:{slug}?all={}&story={}",
        filter.all,
        filter.canonical_url.as_deref().unwrap_or_default()
    );
    let slot = state.cache.slot(&key);
    if let Some(r) = state.fresh(&slot) {
        state.metrics.cache_hit();
        return Ok(topic::respond(&r, &headers));
    }
    let response = topic::cached(
        state,
        &key,
        &slot,
        &headers,
        "explain",
        move |st, generation, now| {
            let explanation = views::explain_topic(&st.config, &st.store, &topic, &filter, now)?;
            let body =
                serde_json::to_vec(&explanation).map_err(|e| Error::Internal(e.to_string()))?;
            let info = cache::RenderInfo {
                last_modified: now.into(),
                content_type: "application/json",
                max_age: 0,
                generation,
                valid_until: Some(now + EXPLAIN_REUSE),
                extra_headers: &[],
            };
            Ok(cache::Rendered::new(body, info))
        },
    )
    .await;
    Ok(response)
}

fn json(body: String) -> Response {
    let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}
