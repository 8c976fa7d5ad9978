//! A plain HTTP client for talking to the daemon (and to upstreams) from a test.

use std::time::{Duration, Instant};

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

/// The status `url` answers with, 0 when nothing answers.
pub async fn status_of(url: &str) -> u16 {
    client()
        .get(url)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// Waits up to `within` for `url` to answer `want` (a reload or a poll taking effect).
pub async fn wait_for_status(url: &str, want: u16, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let status = status_of(url).await;
        if status == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{url} answered {status}, never {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}
