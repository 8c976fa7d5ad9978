//! A push receiver on loopback, standing in for a WebSub hub or a webhook endpoint: records
//! every request (path, headers, body, the status it answered) and answers 500 while told to
//! fail, a status it was told to give the next request, else 202.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// What the receiver answered.
    pub status: u16,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Default)]
struct Log {
    received: Vec<Received>,
    failing: bool,
    /// Answered to the next request only.
    next: Option<StatusCode>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    _task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let log = Arc::new(Mutex::new(Log::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .fallback(record)
            .with_state(Arc::clone(&log));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            addr,
            log,
            _task: task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// From now on answer 500 (`true`) or 202 (`false`).
    pub fn fail(&self, failing: bool) {
        self.log.lock().unwrap().failing = failing;
    }

    /// Answers `status` to the next request, whatever it is, then as before.
    pub fn answer_next(&self, status: u16) {
        self.log.lock().unwrap().next = Some(StatusCode::from_u16(status).unwrap());
    }

    /// Every request to `path` so far, oldest first.
    pub fn received(&self, path: &str) -> Vec<Received> {
        let log = self.log.lock().unwrap();
        log.received
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// The requests to `path` answered 2xx.
    pub fn accepted(&self, path: &str) -> Vec<Received> {
        self.received(path)
            .into_iter()
            .filter(|r| r.status < 300)
            .collect()
    }

    /// Waits until `path` has accepted at least `n` requests; returns them.
    pub async fn wait_accepted(&self, path: &str, n: usize, within: Duration) -> Vec<Received> {
        self.wait(path, within, |r| r.status < 300, n).await
    }

    /// Waits until `path` has received at least `n` requests, whatever was answered.
    pub async fn wait_received(&self, path: &str, n: usize, within: Duration) -> Vec<Received> {
        self.wait(path, within, |_| true, n).await
    }

    async fn wait(
        &self,
        path: &str,
        within: Duration,
        counts: impl Fn(&Received) -> bool,
        n: usize,
    ) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let got: Vec<Received> = self
                .received(path)
                .into_iter()
                .filter(|r| counts(r))
                .collect();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{path} got {} of {n} requests within {within:?}: {:#?}",
                got.len(),
                self.received(path)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn record(
    State(log): State<Arc<Mutex<Log>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut log = log.lock().unwrap();
    let status = if let Some(status) = log.next.take() {
        status
    } else if log.failing {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::ACCEPTED
    };
    log.received.push(Received {
        path: uri.path().to_string(),
        headers,
        body: body.to_vec(),
        status: status.as_u16(),
        at: std::time::Instant::now(),
    });
    status
}
