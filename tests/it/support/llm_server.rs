//! A stand-in for an OpenAI-compatible model: a real HTTP server on 127.0.0.1 answering
//! `POST /v1/chat/completions` as the test scripts it (an answer made from the request, an
//! error status, a stall, a body that is not what was asked), recording every request.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the server answers.
#[derive(Clone)]
pub enum Behavior {
    /// 200 with this answer, made from the user message.
    Answer(Arc<dyn Fn(&str) -> String + Send + Sync>),
    /// This status, with a `Retry-After` header when given.
    Status(u16, Option<&'static str>),
    /// 200 with this content type and body, as they are.
    Raw(&'static str, Vec<u8>),
    /// Sends nothing for this long.
    Stall(Duration),
}

impl Behavior {
    pub fn answer(f: impl Fn(&str) -> String + Send + Sync + 'static) -> Behavior {
        Behavior::Answer(Arc::new(f))
    }
}

/// One request as received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub authorization: Option<String>,
    pub body: serde_json::Value,
}

impl Recorded {
    /// The content of the message with this role.
    pub fn message(&self, role: &str) -> String {
        self.body["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["role"] == role)
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_string()
    }
}

struct Shared {
    behavior: Mutex<Behavior>,
    requests: Mutex<Vec<Recorded>>,
}

pub struct LlmServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _task: tokio::task::JoinHandle<()>,
}

impl LlmServer {
    pub async fn start(behavior: Behavior) -> LlmServer {
        let shared = Arc::new(Shared {
            behavior: Mutex::new(behavior),
            requests: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .route("/v1/chat/completions", axum::routing::post(complete))
            .with_state(Arc::clone(&shared));
        let (addr, task) = super::upstream::serve_on_loopback(app).await;
        LlmServer {
            addr,
            shared,
            _task: task,
        }
    }

    /// The `[llm] endpoint` to configure.
    pub fn endpoint(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }
}

async fn complete(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let recorded = Recorded {
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body,
    };
    let user = recorded.message("user");
    shared.requests.lock().unwrap().push(recorded);
    let behavior = shared.behavior.lock().unwrap().clone();
    match behavior {
        Behavior::Answer(make) => {
            let answer = serde_json::json!({
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": make(&user)},
                    "finish_reason": "stop"
                }]
            });
            (
                [(header::CONTENT_TYPE, "application/json")],
                answer.to_string(),
            )
                .into_response()
        }
        Behavior::Status(code, retry_after) => {
            let mut response = StatusCode::from_u16(code).unwrap().into_response();
            if let Some(after) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, after.parse().unwrap());
            }
            response
        }
        Behavior::Raw(kind, bytes) => {
            ([(header::CONTENT_TYPE, kind)], Bytes::from(bytes)).into_response()
        }
        Behavior::Stall(time) => {
            tokio::time::sleep(time).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
    }
}
