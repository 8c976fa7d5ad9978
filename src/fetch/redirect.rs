//! The redirect decision, pure: where a 3xx answer sends the fetch next, or why it refuses
//! to go there (no Location, an unusable one, a downgrade from https, a non-http scheme).

use super::FetchError;
use reqwest::StatusCode;
use url::Url;

/// The next address after a redirect `status` from `current` with header `location`.
pub(crate) fn next_hop(
    current: &Url,
    status: StatusCode,
    location: Option<&str>,
) -> Result<Url, FetchError> {
    let Some(location) = location else {
        return Err(FetchError::Redirect(format!(
            "HTTP {} without a Location header",
            status.as_u16()
        )));
    };
    let next = current
        .join(location)
        .map_err(|_| FetchError::Redirect(format!("invalid Location {location:?}")))?;
    if current.scheme() == "https" && next.scheme() != "https" {
        return Err(FetchError::Redirect(format!(
            "https to {} redirect to {next} refused",
            next.scheme()
        )));
    }
    if !matches!(next.scheme(), "http" | "https") {
        return Err(FetchError::Redirect(format!(
            "redirect to unsupported URL {next}"
        )));
    }
    Ok(next)
}

/// 301 and 308 say the resource lives at the new address for good.
pub(crate) fn is_permanent(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    fn hop(from: &str, status: u16, location: Option<&str>) -> Result<Url, String> {
        next_hop(&url(from), StatusCode::from_u16(status).unwrap(), location)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn https_to_http_is_refused() {
        let err = hop("https://a.example/feed", 301, Some("http://a.example/feed")).unwrap_err();
        assert!(err.starts_with("redirect refused: https to http"), "{err}");
        let err = hop("https://a.example/feed", 302, Some("http://b.example/x")).unwrap_err();
        assert!(err.contains("http://b.example/x"), "{err}");
    }

    #[test]
    fn upgrades_and_same_scheme_hops_are_followed() {
        assert_eq!(
            hop("http://a.example/feed", 301, Some("https://a.example/feed")),
            Ok(url("https://a.example/feed"))
        );
        assert_eq!(
            hop("https://a.example/feed", 307, Some("https://b.example/rss")),
            Ok(url("https://b.example/rss"))
        );
    }

    #[test]
    fn relative_locations_resolve_against_the_current_url() {
        assert_eq!(
            hop("https://a.example/blog/feed", 302, Some("../rss.xml")),
            Ok(url("https://a.example/rss.xml"))
        );
        assert_eq!(
            hop("https://a.example/blog/feed", 302, Some("//c.example/f")),
            Ok(url("https://c.example/f"))
        );
        // A scheme-relative Location from https stays https; from http it stays http.
        assert_eq!(
            hop("http://a.example/feed", 302, Some("//c.example/f")),
            Ok(url("http://c.example/f"))
        );
    }

    #[test]
    fn missing_unusable_or_non_http_locations_are_refused() {
        let err = hop("https://a.example/", 301, None).unwrap_err();
        assert_eq!(err, "redirect refused: HTTP 301 without a Location header");
        let err = hop("https://a.example/", 302, Some("http://[::1")).unwrap_err();
        assert!(err.contains("invalid Location"), "{err}");
        let err = hop("http://a.example/", 302, Some("ftp://a.example/feed")).unwrap_err();
        assert!(
            err.contains("unsupported URL ftp://a.example/feed"),
            "{err}"
        );
        let err = hop("http://a.example/", 302, Some("file:///etc/passwd")).unwrap_err();
        assert!(err.contains("unsupported URL"), "{err}");
    }

    #[test]
    fn only_301_and_308_are_permanent() {
        for (status, permanent) in [
            (301, true),
            (308, true),
            (302, false),
            (303, false),
            (307, false),
        ] {
            assert_eq!(
                is_permanent(StatusCode::from_u16(status).unwrap()),
                permanent,
                "{status}"
            );
        }
    }
}
