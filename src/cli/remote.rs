//! Talking to a running daemon: sled lets one process open the store, so commands that only
//! read (`explain`, `status`, `export`) ask the daemon over HTTP when it holds the store.

use crate::config::Config;
use std::time::Duration;

/// Where the daemon of `config` answers locally (an unspecified listen address such as
/// 0.0.0.0 is reached through loopback).
pub(super) fn daemon_base(config: &Config) -> String {
    let mut addr = config.server.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    format!("http://{addr}")
}

/// GETs `path` from the running daemon: the body, or why it could not be had.
pub(super) async fn get(config: &Config, path: &str) -> Result<Vec<u8>, String> {
    let url = format!("{}{path}", daemon_base(config));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| format!("{url}: {e}"))?;
    if !status.is_success() {
        return Err(format!(
            "{url}: HTTP {status}: {}",
            String::from_utf8_lossy(&body).trim()
        ));
    }
    Ok(body.to_vec())
}
