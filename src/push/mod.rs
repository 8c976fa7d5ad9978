//! Push: telling others that a topic's feed changed. WebSub publish pings to the configured
//! hubs (`websub`), decided on a digest of what readers see (`digest`), and webhook POSTs of
//! new items (`webhook`), both retried with backoff.

pub(crate) mod backoff;
pub(crate) mod digest;
pub(crate) mod webhook;
pub(crate) mod websub;

use crate::fetch::{FetchError, Fetcher};
use crate::render::Format;
use crate::topics::views::View;
use url::Url;

/// The topic's own feed URLs, one per format: what hubs are told of and feeds name as self.
pub(crate) fn feed_urls(base_url: &str, slug: &str) -> Vec<String> {
    [Format::Rss, Format::Atom, Format::JsonFeed]
        .into_iter()
        .map(|f| format!("{base_url}{}", View::Feed(f).path(slug)))
        .collect()
}

/// The form body of a WebSub publish ping for `feed_url`.
pub(crate) fn publish_body(feed_url: &str) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("hub.mode", "publish")
        .append_pair("hub.url", feed_url)
        .finish()
        .into_bytes()
}

/// Tells `hub` that `feed_url` changed; any 2xx is taken as heard.
pub(crate) async fn ping(fetcher: &Fetcher, hub: &Url, feed_url: &str) -> Result<(), FetchError> {
    fetcher
        .post(
            hub,
            "application/x-www-form-urlencoded",
            &[],
            publish_body(feed_url),
        )
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ping_names_the_feed_form_encoded() {
        let body = publish_body("http://127.0.0.1:8080/t/ds.rss?x=1&y=2");
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "hub.mode=publish&hub.url=http%3A%2F%2F127.0.0.1%3A8080%2Ft%2Fds.rss%3Fx%3D1%26y%3D2"
        );
        assert_eq!(
            feed_urls("https://f.example", "ds"),
            [
                "https://f.example/t/ds.rss",
                "https://f.example/t/ds.atom",
                "https://f.example/t/ds.json"
            ]
        );
    }
}
