//! The TLS settings of a PostgreSQL URL, in libpq's words (`sslmode`, `sslrootcert`): read
//! here once, for `check` and for the store's connections alike.

use std::path::PathBuf;

/// `sslmode`: how much TLS a connection needs, as libpq defines the values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP only.
    Disable,
    /// TLS when the server offers it, its certificate unchecked (`allow` means the same
    /// here). libpq's default, and ours.
    Prefer,
    /// TLS or no connection; the certificate is checked only when `sslrootcert` is given.
    Require,
    /// TLS, and the server's certificate must chain to `sslrootcert`.
    VerifyCa,
    /// As `VerifyCa`, and the certificate must also name the host connected to.
    VerifyFull,
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
}

impl StoreTls {
    /// Whether the server's certificate is checked at all (libpq: `verify-*`, or `require`
    /// with a root certificate file).
    pub fn checks_certificate(&self) -> bool {
        match self.mode {
            SslMode::Disable | SslMode::Prefer => false,
            SslMode::Require => self.root_certs.is_some(),
            SslMode::VerifyCa | SslMode::VerifyFull => true,
        }
    }

    /// Whether the certificate must name the host.
    pub fn checks_host_name(&self) -> bool {
        self.mode == SslMode::VerifyFull
    }
}

/// Splits `url` into the URL the PostgreSQL client reads (without `sslmode` and
/// `sslrootcert`, which it does not know the libpq way) and its TLS settings. The error
/// says which parameter is wrong and what it may be.
pub fn split_tls(url: &str) -> Result<(String, StoreTls), String> {
    let mut parsed = url::Url::parse(url).map_err(|e| format!("not a PostgreSQL URL: {e}"))?;
    let mut mode = None;
    let mut root_certs = None;
    let mut kept = Vec::new();
    for (key, value) in parsed.query_pairs() {
        match key.as_ref() {
            "sslmode" => {
                mode = Some(match value.as_ref() {
                    "disable" => SslMode::Disable,
                    "allow" | "prefer" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    other => {
                        return Err(format!(
                            "sslmode={other:?}: expected disable, allow, prefer, require, \
                             verify-ca or verify-full"
                        ))
                    }
                })
            }
            "sslrootcert" => {
                root_certs =
                    Some(match value.as_ref() {
                        "" => return Err(
                            "sslrootcert is empty: name a PEM file of CA certificates, or `system`"
                                .into(),
                        ),
                        "system" => RootCerts::System,
                        path => RootCerts::File(PathBuf::from(path)),
                    })
            }
            _ => kept.push((key.into_owned(), value.into_owned())),
        }
    }
    let mode = mode.unwrap_or(match root_certs {
        // libpq: `sslrootcert=system` alone means verify-full.
        Some(RootCerts::System) => SslMode::VerifyFull,
        _ => SslMode::Prefer,
    });
    if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) && root_certs.is_none() {
        return Err(format!(
            "sslmode={} needs sslrootcert: a PEM file of the CA certificates to trust, or \
             `system` for the public web CAs",
            if mode == SslMode::VerifyCa {
                "verify-ca"
            } else {
                "verify-full"
            }
        ));
    }
    if mode == SslMode::Disable && root_certs.is_some() {
        return Err("sslrootcert is set but sslmode=disable: nothing would be checked".into());
    }
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    Ok((parsed.to_string(), StoreTls { mode, root_certs }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(url: &str) -> StoreTls {
        split_tls(url).expect("valid").1
    }

    #[test]
    fn without_parameters_tls_is_preferred_and_unchecked_as_libpq_does() {
        let (rest, t) = split_tls("postgres://u:p@db:5432/feeds").unwrap();
        assert_eq!(rest, "postgres://u:p@db:5432/feeds");
        assert_eq!(t.mode, SslMode::Prefer);
        assert!(!t.checks_certificate());
    }

    #[test]
    fn the_tls_parameters_are_taken_out_and_the_others_kept() {
        let (rest, t) = split_tls(
            "postgres://u@db/feeds?application_name=fs&sslmode=verify-full&sslrootcert=/etc/ca.pem&connect_timeout=3",
        )
        .unwrap();
        assert_eq!(
            rest,
            "postgres://u@db/feeds?application_name=fs&connect_timeout=3"
        );
        assert_eq!(t.mode, SslMode::VerifyFull);
        assert_eq!(
            t.root_certs,
            Some(RootCerts::File(PathBuf::from("/etc/ca.pem")))
        );
        assert!(t.checks_certificate() && t.checks_host_name());
    }

    #[test]
    fn each_mode_checks_what_libpq_checks() {
        let cases = [
            ("sslmode=disable", false, false),
            ("sslmode=allow", false, false),
            ("sslmode=prefer", false, false),
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
        assert_eq!(tls("postgres://db/x?sslmode=allow").mode, SslMode::Prefer);
        assert_eq!(
            tls("postgres://db/x?sslrootcert=system").root_certs,
            Some(RootCerts::System)
        );
    }

    #[test]
    fn a_wrong_setting_says_which_and_what_it_may_be() {
        let err = split_tls("postgres://db/x?sslmode=on").unwrap_err();
        assert!(
            err.contains("sslmode=\"on\"") && err.contains("verify-full"),
            "{err}"
        );
        let err = split_tls("postgres://db/x?sslmode=verify-full").unwrap_err();
        assert!(err.contains("needs sslrootcert"), "{err}");
        let err = split_tls("postgres://db/x?sslrootcert=").unwrap_err();
        assert!(err.contains("sslrootcert is empty"), "{err}");
        let err = split_tls("postgres://db/x?sslmode=disable&sslrootcert=ca.pem").unwrap_err();
        assert!(err.contains("sslmode=disable"), "{err}");
    }
}
