//! POSTs to operator-configured receivers (WebSub hubs, webhooks): no redirects followed and
//! no address guard, since the operator chose the address, bounded by the fetch timeout.

use super::{FetchError, Fetcher};
use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use url::Url;

impl Fetcher {
    /// POSTs `body` to `url` with `headers`; `Ok` with the status when it is 2xx, else the
    /// status (or why no answer came) as the error. The answer's body is not read.
    pub async fn post(
        &self,
        url: &Url,
        content_type: &'static str,
        headers: &[(HeaderName, String)],
        body: Vec<u8>,
    ) -> Result<u16, FetchError> {
        let mut request = self
            .open
            .post(url.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static(content_type))
            .body(body);
        for (name, value) in headers {
            let value = HeaderValue::from_str(value)
                .map_err(|e| FetchError::Other(format!("header {name}: {e}")))?;
            request = request.header(name, value);
        }
        let timeout = self.settings.timeout;
        let response = tokio::time::timeout(timeout, request.send())
            .await
            .map_err(|_| FetchError::Timeout(timeout))?
            // Without the URL: a webhook's may carry a token, and errors reach `/healthz`.
            .map_err(|e| self.classify(e.without_url()))?;
        let status = response.status();
        if status.is_success() {
            Ok(status.as_u16())
        } else {
            Err(FetchError::Status {
                status: status.as_u16(),
                retry_after: None,
            })
        }
    }
}
