//! Test harness shared by the end-to-end tests: a real HTTP server serving files from
//! `fixtures/` (with ETags and 304s, and routes a test can re-point), the real `feedsift`
//! binary run against a config in a temp dir, and a real HTTP client.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

#[derive(Default)]
struct Routes {
    /// URL path -> fixture file (relative to fixtures/) or a literal status.
    files: HashMap<String, Route>,
    hits: HashMap<String, usize>,
    conditional_hits: HashMap<String, usize>,
}

#[derive(Clone)]
pub enum Route {
    File(String),
    Bytes(Vec<u8>),
    Status(u16),
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .fallback(serve_fixture)
            .with_state(Arc::clone(&routes));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Upstream {
            addr,
            routes,
            _task: task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Serves `fixtures/<file>` at `path` (replacing what was there).
    pub fn serve(&self, path: &str, file: &str) {
        self.routes
            .lock()
            .unwrap()
            .files
            .insert(path.into(), Route::File(file.into()));
    }

    /// Serves `bytes` (made by the test) at `path`.
    pub fn serve_bytes(&self, path: &str, bytes: Vec<u8>) {
        self.routes
            .lock()
            .unwrap()
            .files
            .insert(path.into(), Route::Bytes(bytes));
    }

    pub fn fail(&self, path: &str, status: u16) {
        self.routes
            .lock()
            .unwrap()
            .files
            .insert(path.into(), Route::Status(status));
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
    let route = {
        let mut r = routes.lock().unwrap();
        *r.hits.entry(path.clone()).or_default() += 1;
        if headers.contains_key(header::IF_NONE_MATCH) {
            *r.conditional_hits.entry(path.clone()).or_default() += 1;
        }
        r.files.get(&path).cloned()
    };
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

/// `[[source]]` blocks for the four community sites, served by `up` at these paths
/// (Hacker News, /r/programming, Lobsters, Dev.to); `hn_poll` overrides Hacker News' interval.
pub fn site_sources(up: &Upstream, paths: [&str; 4], hn_poll: Option<&str>) -> String {
    let poll = hn_poll
        .map(|p| format!("poll = \"{p}\"\n"))
        .unwrap_or_default();
    format!(
        "[[source]]\nid = \"hn\"\nkind = \"hackernews\"\nurl = \"{}\"\n{poll}\n\
         [[source]]\nid = \"reddit-programming\"\nkind = \"reddit\"\nsubreddit = \"programming\"\nurl = \"{}\"\n\n\
         [[source]]\nid = \"lobsters\"\nkind = \"lobsters\"\nurl = \"{}\"\n\n\
         [[source]]\nid = \"devto\"\nkind = \"devto\"\nurl = \"{}\"\n",
        up.url(paths[0]),
        up.url(paths[1]),
        up.url(paths[2]),
        up.url(paths[3]),
    )
}

/// A free loopback port (bound then released: good enough for tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A config file and data dir in a temp dir.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl Workspace {
    /// Writes feeds.toml: a `[server]` section on a free port, then `body`.
    pub fn new(body: &str) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nbase_url = \"http://127.0.0.1:{port}\"\ndata_dir = \"data\"\n\n{body}"
        );
        std::fs::write(dir.path().join("feeds.toml"), config).unwrap();
        Workspace { dir, port }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("feeds.toml")
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs `feedsift <args> --config <this config>` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_feedsift"))
            .args(args)
            .arg("--config")
            .arg(self.config_path())
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    }

    /// Runs `feedsift fetch --once`, asserting success; returns stdout.
    pub fn fetch_once(&self) -> String {
        let out = self.run(&["fetch", "--once"]);
        assert!(
            out.status.success(),
            "fetch failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Starts `feedsift serve` and waits until it answers.
    pub async fn serve(&self) -> Daemon {
        let child = Command::new(env!("CARGO_BIN_EXE_feedsift"))
            .args(["serve", "--config"])
            .arg(self.config_path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let daemon = Daemon {
            child: Some(child),
            base: self.base(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = client()
                .get(format!("{}/healthz", daemon.base))
                .send()
                .await
            {
                if r.status().is_success() {
                    return daemon;
                }
            }
            assert!(
                Instant::now() < deadline,
                "feedsift serve did not answer within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A running `feedsift serve`; stopped with SIGTERM on `stop` or drop.
pub struct Daemon {
    child: Option<Child>,
    pub base: String,
}

impl Daemon {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// SIGTERM, then waits: returns the exit status and stderr.
    pub fn stop(mut self) -> (std::process::ExitStatus, String) {
        let mut child = self.child.take().unwrap();
        terminate(&child);
        wait_with_timeout(&mut child, Duration::from_secs(10))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn terminate(child: &Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> (std::process::ExitStatus, String) {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut stderr);
            }
            return (status, stderr);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("feedsift did not exit within {limit:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// GETs `url` with a plain client, failing the test if no response arrives.
pub async fn get(url: &str) -> reqwest::Response {
    client()
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"))
}

/// GETs `url` and parses its body as JSON, failing the test on any error.
pub async fn get_json(url: &str) -> serde_json::Value {
    let body = client()
        .get(url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{url}: not JSON: {e}"))
}

/// GETs `url`, asserting a 2xx answer, and returns its body as text.
pub async fn get_text(url: &str) -> String {
    let response = client().get(url).send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.text().await.unwrap()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Titles of the items of an RSS document, in order.
pub fn rss_titles(xml: &str) -> Vec<String> {
    xml.split("<item>")
        .skip(1)
        .filter_map(|item| {
            Some(
                item.split_once("<title>")?
                    .1
                    .split_once("</title>")?
                    .0
                    .to_string(),
            )
        })
        .collect()
}

/// Text of every `<tag>...</tag>` in `xml`, in order.
pub fn all_elements(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| {
            let body = rest.split_once('>')?.1;
            Some(body.split_once(&close)?.0.to_string())
        })
        .collect()
}
