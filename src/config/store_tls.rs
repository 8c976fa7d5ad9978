//! The connection settings of a PostgreSQL URL, with its TLS settings in libpq's words
//! (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`): read here once, for `check` and for the
//! store's connections.

use std::path::PathBuf;

/// `sslmode`: how much TLS a connection needs, as libpq defines the values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP only.
    Disable,
    /// Plain TCP first; TLS if the server refuses that.
    Allow,
    /// TLS first (libpq's default, and ours); plain TCP if the server offers no TLS or the
    /// TLS attempt fails.
    Prefer,
    /// TLS or no connection.
    Require,
    /// TLS, and the server's certificate must chain to `sslrootcert`.
    VerifyCa,
    /// As `VerifyCa`, and the certificate must also name the host connected to.
    VerifyFull,
}

/// Each `sslmode` value and what it means: the one table parsing, messages and the list of
/// accepted values read.
const MODES: [(&str, SslMode); 6] = [
    ("disable", SslMode::Disable),
    ("allow", SslMode::Allow),
    ("prefer", SslMode::Prefer),
    ("require", SslMode::Require),
    ("verify-ca", SslMode::VerifyCa),
    ("verify-full", SslMode::VerifyFull),
];

impl SslMode {
    /// The value as written in a URL.
    pub fn name(self) -> &'static str {
        MODES
            .iter()
            .find(|(_, mode)| *mode == self)
            .map_or("?", |(name, _)| name)
    }
}

/// Whose certificates a checked connection trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCerts {
    /// A PEM file of CA certificates.
    File(PathBuf),
    /// `sslrootcert=system`: the public web CAs (Mozilla's list, built in).
    System,
}

/// A URL's TLS settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreTls {
    pub mode: SslMode,
    pub root_certs: Option<RootCerts>,
    /// `sslcert` and `sslkey`: the certificate chain (PEM) this client shows, and its key.
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

impl StoreTls {
    /// Whether the server's certificate is checked: whenever there are roots to check it
    /// against (libpq: `verify-*`, which need them, and any mode that tries TLS when a root
    /// file is given; `disable` with roots is refused when the URL is read).
    pub fn checks_certificate(&self) -> bool {
        self.root_certs.is_some()
    }

    /// Whether the certificate must name the host.
    pub fn checks_host_name(&self) -> bool {
        self.mode == SslMode::VerifyFull
    }
}

/// The client's settings for `url` and its TLS settings. A `postgres://` URL may carry
/// `sslmode`, `sslrootcert`, `sslcert` and `sslkey` as libpq reads them (they are taken out
/// before the client reads the rest, byte for byte); a `key=value` string is the client's own, with its
/// `sslmode` (disable, prefer, require). The error says what is wrong.
pub fn client_config(url: &str) -> Result<(postgres::Config, StoreTls), String> {
    let (client_url, tls) = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (client_url, tls) = split_tls(url)?;
        (client_url, Some(tls))
    } else {
        (url.to_string(), None)
    };
    let config: postgres::Config = client_url
        .parse()
        .map_err(|e: postgres::Error| format!("not a PostgreSQL URL: {}", error_chain(&e)))?;
    let tls = tls.unwrap_or_else(|| StoreTls {
        mode: match config.get_ssl_mode() {
            postgres::config::SslMode::Disable => SslMode::Disable,
            postgres::config::SslMode::Require => SslMode::Require,
            _ => SslMode::Prefer,
        },
        root_certs: None,
        client_cert: None,
    });
    Ok((config, tls))
}

/// `e` and its causes, each once: the client's own text often says only what failed
/// ("invalid connection string", "error performing TLS handshake"), its sources say why.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = cause.source();
    }
    text
}

/// `url` without its TLS parameters (every other byte kept), and what they said.
fn split_tls(url: &str) -> Result<(String, StoreTls), String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, query),
        None => (url, ""),
    };
    let mut mode = None;
    let mut root_certs = None;
    let (mut cert, mut cert_key) = (None, None);
    let mut kept = Vec::new();
    for segment in query.split('&').filter(|s| !s.is_empty()) {
        let (key, value) = segment.split_once('=').unwrap_or((segment, ""));
        let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
        match percent_encoding::percent_decode_str(key)
            .decode_utf8_lossy()
            .as_ref()
        {
            "sslmode" => mode = Some(parse_mode(&value)?),
            "sslrootcert" => {
                let what = "a PEM file of CA certificates, or `system`";
                root_certs = Some(match non_empty_path("sslrootcert", &value, what)? {
                    path if path.as_os_str() == "system" => RootCerts::System,
                    path => RootCerts::File(path),
                })
            }
            "sslcert" => cert = Some(non_empty_path("sslcert", &value, "a PEM file")?),
            "sslkey" => cert_key = Some(non_empty_path("sslkey", &value, "a PEM file")?),
            _ => kept.push(segment),
        }
    }
    let mode = mode.unwrap_or(match root_certs {
        // libpq 16: `sslrootcert=system` alone means verify-full.
        Some(RootCerts::System) => SslMode::VerifyFull,
        _ => SslMode::Prefer,
    });
    if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) && root_certs.is_none() {
        return Err(format!(
            "sslmode={} needs sslrootcert: a PEM file of the CA certificates to trust, or \
             `system` for the public web CAs",
            mode.name()
        ));
    }
    if root_certs == Some(RootCerts::System) && mode != SslMode::VerifyFull {
        // As libpq 16: any publicly trusted certificate, for any name, would pass.
        return Err(
            "sslrootcert=system needs sslmode=verify-full: without the host name \
                    check, any certificate a public CA signed would pass"
                .into(),
        );
    }
    if mode == SslMode::Disable && root_certs.is_some() {
        return Err("sslrootcert is set but sslmode=disable: nothing would be checked".into());
    }
    let client_cert = match (cert, cert_key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        (Some(_), None) => return Err("sslcert needs sslkey: the file of its private key".into()),
        (None, Some(_)) => return Err("sslkey needs sslcert: the file of its certificate".into()),
    };
    if mode == SslMode::Disable && client_cert.is_some() {
        return Err("sslcert is set but sslmode=disable: it would never be shown".into());
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((
        rest,
        StoreTls {
            mode,
            root_certs,
            client_cert,
        },
    ))
}

/// `value` as a path; empty, an error that says what `key` should name.
fn non_empty_path(key: &str, value: &str, what: &str) -> Result<PathBuf, String> {
    if value.is_empty() {
        return Err(format!("{key} is empty: name {what}"));
    }
    Ok(PathBuf::from(value))
}

fn parse_mode(value: &str) -> Result<SslMode, String> {
    match MODES.iter().find(|(name, _)| *name == value) {
        Some((_, mode)) => Ok(*mode),
        None => {
            let names: Vec<&str> = MODES.iter().map(|(name, _)| *name).collect();
            let (last, rest) = names.split_last().unwrap_or((&"", &[]));
            Err(format!(
                "sslmode={value:?}: expected {} or {last}",
                rest.join(", ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(url: &str) -> StoreTls {
        client_config(url).expect("valid").1
    }

    #[test]
    fn without_parameters_tls_is_preferred_and_unchecked_as_libpq_does() {
        let (rest, t) = split_tls("postgres://u:p@db:5432/feeds").unwrap();
        assert_eq!(rest, "postgres://u:p@db:5432/feeds");
        assert_eq!(t.mode, SslMode::Prefer);
        assert!(!t.checks_certificate());
    }

    #[test]
    fn the_tls_parameters_are_taken_out_and_every_other_byte_kept() {
        let (rest, t) = split_tls(
            "postgres://u%40x:p%20w@a:5432,b:5433/feeds?options=-c%20search_path%3Dfeeds&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&password=a+b",
        )
        .unwrap();
        assert_eq!(
            rest,
            "postgres://u%40x:p%20w@a:5432,b:5433/feeds?options=-c%20search_path%3Dfeeds&password=a+b"
        );
        assert_eq!(t.mode, SslMode::VerifyFull);
        assert_eq!(
            t.root_certs,
            Some(RootCerts::File(PathBuf::from("/etc/ca.pem")))
        );
        assert!(t.checks_certificate() && t.checks_host_name());
        assert_eq!(t.client_cert, None);
        let t = tls("postgres://db/x?sslcert=%2Fetc%2Fc.pem&sslkey=c.key&sslmode=require");
        assert_eq!(
            t.client_cert,
            Some((PathBuf::from("/etc/c.pem"), PathBuf::from("c.key")))
        );
        // What the client then reads: the option with its space, two hosts.
        let (config, _) = client_config(
            "postgres://u@a:5432,b:5433/feeds?options=-c%20search_path%3Dfeeds&sslmode=require",
        )
        .unwrap();
        assert_eq!(config.get_options(), Some("-c search_path=feeds"));
        assert_eq!(config.get_hosts().len(), 2);
    }

    #[test]
    fn each_mode_checks_what_libpq_checks() {
        let cases = [
            ("sslmode=disable", false, false),
            ("sslmode=allow", false, false),
            ("sslmode=prefer", false, false),
            ("sslmode=prefer&sslrootcert=ca.pem", true, false),
            ("sslmode=require", false, false),
            ("sslmode=require&sslrootcert=ca.pem", true, false),
            ("sslmode=verify-ca&sslrootcert=ca.pem", true, false),
            ("sslmode=verify-full&sslrootcert=ca.pem", true, true),
            ("sslrootcert=system", true, true),
        ];
        for (query, certificate, host) in cases {
            let t = tls(&format!("postgres://db/x?{query}"));
            assert_eq!(t.checks_certificate(), certificate, "{query}");
            assert_eq!(t.checks_host_name(), host, "{query}");
        }
        assert_eq!(tls("postgres://db/x?sslmode=allow").mode, SslMode::Allow);
        assert_eq!(
            tls("postgres://db/x?sslrootcert=system").root_certs,
            Some(RootCerts::System)
        );
    }

    #[test]
    fn a_key_value_string_keeps_the_clients_own_sslmode() {
        assert_eq!(tls("host=db user=u sslmode=require").mode, SslMode::Require);
        assert_eq!(tls("host=db user=u sslmode=disable").mode, SslMode::Disable);
        assert_eq!(tls("host=db user=u").mode, SslMode::Prefer);
    }

    #[test]
    fn a_wrong_setting_says_which_and_what_it_may_be() {
        let err = client_config("postgres://db/x?sslmode=on").unwrap_err();
        assert!(
            err.contains("sslmode=\"on\"") && err.contains("verify-full"),
            "{err}"
        );
        let err = client_config("postgres://db/x?sslmode=verify-full").unwrap_err();
        assert!(err.contains("needs sslrootcert"), "{err}");
        let err = client_config("postgres://db/x?sslrootcert=").unwrap_err();
        assert!(err.contains("sslrootcert is empty"), "{err}");
        let err = client_config("postgres://db/x?sslmode=disable&sslrootcert=ca.pem").unwrap_err();
        assert!(err.contains("sslmode=disable"), "{err}");
        for weaker in ["verify-ca", "require", "prefer"] {
            let err = client_config(&format!(
                "postgres://db/x?sslmode={weaker}&sslrootcert=system"
            ))
            .unwrap_err();
            assert!(err.contains("needs sslmode=verify-full"), "{err}");
        }
        // What the client itself does not know is named with its reason.
        let err = client_config("postgres://db/x?sslcrl=crl.pem").unwrap_err();
        assert!(
            err.contains("unknown option") && err.contains("sslcrl"),
            "{err}"
        );
        let err = client_config("postgres://db/x?sslcert=client.pem").unwrap_err();
        assert!(err.contains("sslcert needs sslkey"), "{err}");
        let err = client_config("postgres://db/x?sslkey=client.key").unwrap_err();
        assert!(err.contains("sslkey needs sslcert"), "{err}");
        let err = client_config("postgres://db/x?sslmode=disable&sslcert=c.pem&sslkey=c.key")
            .unwrap_err();
        assert!(err.contains("never be shown"), "{err}");
    }
}
