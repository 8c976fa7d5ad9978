//! A misbehaving upstream for the fetch-failure tests: a raw TCP server on 127.0.0.1 whose
//! answer on each path is scripted byte by byte (hang, drip, reset, lie about lengths), and
//! which keeps the head of every request it received, exactly as the bytes arrived.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Act {
    /// Writes these bytes, then closes the connection.
    Send(Vec<u8>),
    /// Reads the request, then never answers (the connection stays open).
    Hang,
    /// Writes `head`, then `body` one byte every `every`, then closes.
    Drip {
        head: Vec<u8>,
        body: Vec<u8>,
        every: Duration,
    },
    /// Writes these bytes, waits for them to arrive, then resets the connection (RST).
    Reset(Vec<u8>),
    /// Writes these bytes, then holds the connection open without another byte.
    SendThenHang(Vec<u8>),
}

/// One request as received: its path and its raw head (request line and headers).
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub head: String,
}

#[derive(Default)]
struct Script {
    /// Path -> acts used in turn, one per request; the last one repeats.
    acts: HashMap<String, VecDeque<Act>>,
    seen: Vec<Seen>,
}

pub struct BadUpstream {
    pub addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    _task: tokio::task::JoinHandle<()>,
}

impl BadUpstream {
    pub async fn start() -> BadUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let script = Arc::new(Mutex::new(Script::default()));
        let shared = Arc::clone(&script);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, Arc::clone(&shared)));
            }
        });
        BadUpstream {
            addr,
            script,
            _task: task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// From now on, every request to `path` gets `act`.
    pub fn on(&self, path: &str, act: Act) {
        let mut script = self.script.lock().unwrap();
        script.acts.insert(path.into(), VecDeque::from([act]));
    }

    /// Appends `act` to the script of `path`: acts answer requests in turn, the last repeats.
    pub fn then(&self, path: &str, act: Act) {
        let mut script = self.script.lock().unwrap();
        script.acts.entry(path.into()).or_default().push_back(act);
    }

    /// Heads of the requests received for `path`, oldest first.
    pub fn requests(&self, path: &str) -> Vec<String> {
        let script = self.script.lock().unwrap();
        script
            .seen
            .iter()
            .filter(|s| s.path == path)
            .map(|s| s.head.clone())
            .collect()
    }
}

async fn answer(mut stream: TcpStream, script: Arc<Mutex<Script>>) {
    let Some(head) = read_head(&mut stream).await else {
        return;
    };
    let path = head
        .lines()
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .unwrap_or("")
        .to_string();
    let act = {
        let mut script = script.lock().unwrap();
        script.seen.push(Seen {
            path: path.clone(),
            head,
        });
        match script.acts.get_mut(&path) {
            Some(acts) if acts.len() > 1 => acts.pop_front(),
            Some(acts) => acts.front().cloned(),
            None => None,
        }
    };
    let act = act.unwrap_or_else(|| Act::Send(response(404, &[], b"not scripted")));
    match act {
        Act::Send(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Act::Hang => hold(stream).await,
        Act::Drip { head, body, every } => {
            if stream.write_all(&head).await.is_err() {
                return;
            }
            for byte in body {
                tokio::time::sleep(every).await;
                if stream.write_all(&[byte]).await.is_err() {
                    return;
                }
            }
            let _ = stream.shutdown().await;
        }
        Act::Reset(bytes) => {
            let _ = stream.write_all(&bytes).await;
            // Let the client read what was sent, so the reset lands mid-body, not before.
            tokio::time::sleep(Duration::from_millis(100)).await;
            let _ = stream.set_zero_linger();
            drop(stream);
        }
        Act::SendThenHang(bytes) => {
            let _ = stream.write_all(&bytes).await;
            hold(stream).await;
        }
    }
}

/// Keeps the connection open, silent, until the client gives up (or the test ends).
async fn hold(mut stream: TcpStream) {
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// The request head, up to and including the blank line (GETs have no body).
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// A complete response: status line, `headers`, a true Content-Length, `Connection: close`.
pub fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let length = body.len().to_string();
    let mut all = headers.to_vec();
    all.push(("Content-Length", &length));
    let mut bytes = head(status, &all);
    bytes.extend_from_slice(body);
    bytes
}

/// A status line and headers exactly as given (plus `Connection: close`): the caller
/// decides what, if anything, to say about the body's length.
pub fn head(status: u16, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut text = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("Connection: close\r\n\r\n");
    text.into_bytes()
}

/// A redirect to `location`.
pub fn redirect(status: u16, location: &str) -> Vec<u8> {
    response(status, &[("Location", location)], b"")
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}
