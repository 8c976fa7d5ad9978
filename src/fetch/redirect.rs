//! The redirect decision, pure: where a 3xx answer sends the fetch next, or why it refuses
//! to go there (no Location, an unusable one, a downgrade from https, a non-http scheme, a
//! literal non-public address when the hop must be public).

use super::{guard, FetchError};
use reqwest::StatusCode;
use url::Url;

/// The next address after a redirect `status` from `current` with header `location`. With
/// `public_only`, a literal non-public address is refused here; names are checked when the
/// hop connects (`guard::PublicResolver`).
pub(crate) fn next_hop(
    current: &Url,
    status: StatusCode,
    location: Option<&str>,
    public_only: bool,
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
    if public_only {
        guard::check_url(&next)
            .map_err(|refused| FetchError::Refused(format!("redirect to {next}: {refused}")))?;
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
        next_hop(
            &url(from),
            StatusCode::from_u16(status).unwrap(),
            location,
            false,
        )
        .map_err(|e| e.to_string())
    }

    fn public_hop(from: &str, location: &str) -> Result<Url, String> {
        next_hop(&url(from), StatusCode::FOUND, Some(location), true).map_err(|e| e.to_string())
    }

    #[test]
    fn public_only_hops_refuse_literal_non_public_addresses() {
        for location in [
            "http://127.0.0.1:8080/secret",
            "http://127.1/",
            "http://2130706433/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.1.2.3/",
            "http://192.168.0.1/",
        ] {
            let err = public_hop("http://a.example/feed", location).unwrap_err();
            assert!(
                err.starts_with("refused: redirect to http://"),
                "{location}: {err}"
            );
            assert!(
                err.ends_with("(allow_private_networks is off)"),
                "{location}: {err}"
            );
        }
        assert_eq!(
            public_hop("http://a.example/feed", "http://127.0.0.1:9/x").unwrap_err(),
            "refused: redirect to http://127.0.0.1:9/x: 127.0.0.1 is a loopback address (allow_private_networks is off)"
        );
        // Names pass here (the resolver checks them at connect time), as do public literals;
        // without `public_only` nothing is refused for its address.
        assert!(public_hop("http://a.example/", "http://localhost:9/").is_ok());
        assert!(public_hop("http://a.example/", "http://8.8.8.8/").is_ok());
        assert!(hop("http://a.example/", 302, Some("http://127.0.0.1/")).is_ok());
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
