//! One chat-completions call to the operator's endpoint (`POST {endpoint}/chat/completions`,
//! `"stream": false`): the API key only in the `Authorization` header, a whole-call timeout,
//! a cap on the body, statuses and Retry-After told apart. No error carries the key or a
//! byte of the response body.

use super::prompt::Request;
use crate::config::LlmConfig;
use std::time::Duration;

/// The most an answer's body may hold: a few sentences are a few hundred bytes.
const MAX_BODY: usize = 256 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a call gave no answer. The messages are the daemon's own words, never the server's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    #[error("timed out")]
    Timeout,
    #[error("rate limited (HTTP 429{})", retry_after.map_or_else(String::new, |d| format!(", Retry-After {}s", d.as_secs())))]
    RateLimited { retry_after: Option<Duration> },
    #[error("HTTP {0}")]
    Status(u16),
    #[error("malformed answer: {0}")]
    Malformed(&'static str),
    #[error("the server streamed its answer (stream=false was asked)")]
    Streamed,
    #[error("answer larger than {} KiB", MAX_BODY / 1024)]
    TooLarge,
    #[error("cannot reach the endpoint: {0}")]
    Transport(String),
}

/// A client for one `[llm]` config. Not `Debug`: it holds the key.
#[derive(Clone)]
pub struct LlmClient {
    http: reqwest::Client,
    url: url::Url,
    key: Option<String>,
    model: String,
    timeout: Duration,
}

impl LlmClient {
    /// A client for `llm`; the error (the variable's name, never a value) when its key is
    /// configured but unset, or the client cannot be built.
    pub fn new(llm: &LlmConfig, user_agent: &str) -> Result<LlmClient, String> {
        let key = llm.api_key()?;
        // The operator's endpoint, wherever it is (loopback included): no address guard, but
        // no proxies from the environment and no redirects that would carry the key along.
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(llm.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let mut url = llm.endpoint.clone();
        let path = format!("{}/chat/completions", url.path().trim_end_matches('/'));
        url.set_path(&path);
        Ok(LlmClient {
            http,
            url,
            key,
            model: llm.model.clone(),
            timeout: llm.timeout,
        })
    }

    /// The answer's text, as the model wrote it (`answer::clean` decides if it can be shown).
    pub async fn complete(&self, request: &Request) -> Result<String, LlmError> {
        // reqwest's timeout covers the body too; this one also bounds a server that stalls
        // between chunks of a body it never ends.
        tokio::time::timeout(self.timeout + Duration::from_secs(1), self.call(request))
            .await
            .unwrap_or(Err(LlmError::Timeout))
    }

    async fn call(&self, request: &Request) -> Result<String, LlmError> {
        let body = serde_json::json!({
            "model": self.model,
            "messages": request.messages,
            "max_tokens": request.max_tokens,
            "temperature": 0.2,
            "stream": false,
        });
        let mut builder = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body.to_string());
        if let Some(key) = &self.key {
            builder = builder.bearer_auth(key);
        }
        let mut response = builder.send().await.map_err(transport)?;
        let status = response.status();
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(crate::fetch::parse_retry_after);
            return Err(LlmError::RateLimited { retry_after });
        }
        if !status.is_success() {
            return Err(LlmError::Status(status.as_u16()));
        }
        let streamed = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.contains("event-stream"));
        if streamed {
            return Err(LlmError::Streamed);
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if bytes.len() + chunk.len() > MAX_BODY {
                return Err(LlmError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        content(&bytes)
    }
}

/// `choices[0].message.content` of a chat-completions answer.
fn content(bytes: &[u8]) -> Result<String, LlmError> {
    if bytes.starts_with(b"data:") {
        return Err(LlmError::Streamed);
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|_| LlmError::Malformed("not JSON"))?;
    value
        .pointer("/choices/0/message/content")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
        .ok_or(LlmError::Malformed("no choices[0].message.content"))
}

/// reqwest's error in words that name no URL with credentials and no body.
fn transport(e: reqwest::Error) -> LlmError {
    if e.is_timeout() {
        return LlmError::Timeout;
    }
    let kind = if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "the body broke off"
    } else {
        "request failed"
    };
    LlmError::Transport(kind.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_is_read_from_the_first_choice() {
        let ok = br#"{"choices":[{"message":{"role":"assistant","content":"Two. Sentences."}}]}"#;
        assert_eq!(content(ok).unwrap(), "Two. Sentences.");
        assert_eq!(content(b"{oops"), Err(LlmError::Malformed("not JSON")));
        assert_eq!(
            content(br#"{"choices":[]}"#),
            Err(LlmError::Malformed("no choices[0].message.content"))
        );
        assert_eq!(content(b"data: {}\n\n"), Err(LlmError::Streamed));
    }
}
