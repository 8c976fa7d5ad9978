//! A well-behaved upstream: a real HTTP server on 127.0.0.1 serving files from `fixtures/`
//! (with ETags and 304s) at paths a test chooses and can re-point, counting the requests.
//! For upstreams that misbehave byte by byte, see `bad_upstream`.

use super::config::{devto, hn, lobsters, reddit, Source};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A fixture's bytes (`name` relative to `fixtures/`).
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// The Hacker News front page (Algolia JSON): 7 stories, "Raft in Practice" among them.
pub const HN_FRONT_PAGE: &str = "sites/hn_front_page.json";
/// The Lobsters hottest page (JSON).
pub const LOBSTERS_HOTTEST: &str = "sites/lobsters_hottest.json";

/// Fixture stems of the four community sites' front pages, in the order Hacker News,
/// /r/programming, Lobsters, Dev.to; `<stem>.json` is a first poll, `<stem>_2.json` a second
/// one where points have grown.
pub const SITE_FIXTURES: [&str; 4] = [
    "sites/hn_front_page",
    "sites/reddit_programming_top",
    "sites/lobsters_hottest",
    "sites/devto_top",
];

#[derive(Default)]
struct Routes {
    /// URL path -> fixture file (relative to fixtures/) or a literal status.
    files: HashMap<String, Route>,
    hits: HashMap<String, usize>,
    conditional_hits: HashMap<String, usize>,
    /// How long every answer waits before it is sent.
    delay: std::time::Duration,
    in_flight: usize,
    most_in_flight: usize,
}

/// One request in flight, counted out when dropped.
struct InFlight(Arc<Mutex<Routes>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut r = self.0.lock().unwrap_or_else(|p| p.into_inner());
        r.in_flight = r.in_flight.saturating_sub(1);
    }
}

#[derive(Clone)]
pub enum Route {
    File(String),
    Bytes(Vec<u8>),
    Status(u16),
}

/// Serves `app` on a free port of 127.0.0.1 until the task is dropped with its owner.
pub async fn serve_on_loopback(app: axum::Router) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (addr, task)
}

/// A local upstream: serves fixture files at paths the test chooses.
pub struct Upstream {
    pub addr: SocketAddr,
    routes: Arc<Mutex<Routes>>,
    _task: tokio::task::JoinHandle<()>,
}

impl Upstream {
    pub async fn start() -> Upstream {
        let routes = Arc::new(Mutex::new(Routes::default()));
        let app = axum::Router::new()
            .fallback(serve_fixture)
            .with_state(Arc::clone(&routes));
        let (addr, task) = serve_on_loopback(app).await;
        Upstream {
            addr,
            routes,
            _task: task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    fn route(&self, path: &str, route: Route) -> String {
        self.routes.lock().unwrap().files.insert(path.into(), route);
        self.url(path)
    }

    /// Serves `fixtures/<file>` at `path` (replacing what was there); returns its URL.
    pub fn serve(&self, path: &str, file: &str) -> String {
        self.route(path, Route::File(file.into()))
    }

    /// Serves `bytes` (made by the test) at `path`; returns its URL.
    pub fn serve_bytes(&self, path: &str, bytes: Vec<u8>) -> String {
        self.route(path, Route::Bytes(bytes))
    }

    /// Answers `status` with no body at `path`; returns its URL.
    pub fn fail(&self, path: &str, status: u16) -> String {
        self.route(path, Route::Status(status))
    }

    /// Serves the four sites' front pages of poll `round` (1 or 2, see [`SITE_FIXTURES`]) at
    /// `paths` (Hacker News, /r/programming, Lobsters, Dev.to, in that order), and returns the
    /// four `[[source]]`s that read them: ids `hn`, `reddit-programming`, `lobsters`, `devto`.
    pub fn serve_sites(&self, paths: [&str; 4], round: u8) -> [Source; 4] {
        let suffix = match round {
            1 => "",
            2 => "_2",
            _ => panic!("the site fixtures hold two polls, not {round}"),
        };
        let [h, r, l, d] = std::array::from_fn(|i| {
            self.serve(paths[i], &format!("{}{suffix}.json", SITE_FIXTURES[i]))
        });
        [hn(h), reddit(r), lobsters(l), devto(d)]
    }

    /// Every answer from now on waits `delay` first (a slow host).
    pub fn slow_down(&self, delay: std::time::Duration) {
        self.routes.lock().unwrap().delay = delay;
    }

    /// The most requests this upstream had in flight at once.
    pub fn most_in_flight(&self) -> usize {
        self.routes.lock().unwrap().most_in_flight
    }

    /// Requests to `path` so far, and how many of them were conditional.
    pub fn hits(&self, path: &str) -> (usize, usize) {
        let r = self.routes.lock().unwrap();
        (
            r.hits.get(path).copied().unwrap_or(0),
            r.conditional_hits.get(path).copied().unwrap_or(0),
        )
    }
}

async fn serve_fixture(
    State(routes): State<Arc<Mutex<Routes>>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path().to_string();
    let (route, delay) = {
        let mut r = routes.lock().unwrap();
        *r.hits.entry(path.clone()).or_default() += 1;
        if headers.contains_key(header::IF_NONE_MATCH) {
            *r.conditional_hits.entry(path.clone()).or_default() += 1;
        }
        r.in_flight += 1;
        r.most_in_flight = r.most_in_flight.max(r.in_flight);
        (r.files.get(&path).cloned(), r.delay)
    };
    // Counted out however the answer ends: a client that hangs up drops this future.
    let _in_flight = InFlight(Arc::clone(&routes));
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let (file, bytes) = match route {
        None => return (StatusCode::NOT_FOUND, "no such fixture").into_response(),
        Some(Route::Status(code)) => return StatusCode::from_u16(code).unwrap().into_response(),
        Some(Route::File(f)) => {
            let bytes = std::fs::read(fixtures_dir().join(&f)).unwrap();
            (f, bytes)
        }
        Some(Route::Bytes(b)) => (path.clone(), b),
    };
    let etag = format!(
        "\"{:x}-{}\"",
        bytes.len(),
        bytes
            .iter()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(*b)))
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let kind = match file.rsplit('.').next() {
        Some("json") => "application/json",
        Some("atom") => "application/atom+xml",
        Some("rdf") => "application/rdf+xml",
        Some("html") => "text/html; charset=utf-8",
        Some("pdf") => "application/pdf",
        _ => "application/rss+xml",
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (header::ETAG, etag),
        ],
        Bytes::from(bytes),
    )
        .into_response()
}
