//! How a node opens a connection to PostgreSQL: the client's settings from the URL, and the
//! TLS its `sslmode` asks for (rustls), with the server's certificate checked as libpq would.

use crate::config::store_tls::{split_tls, RootCerts, SslMode, StoreTls};
use postgres::{Client, NoTls};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres_rustls::MakeRustlsConnect;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything a connection of this node needs to be opened, cloned into each connection.
#[derive(Clone)]
pub(crate) struct Dialer {
    config: postgres::Config,
    tls: Option<MakeRustlsConnect>,
}

impl Dialer {
    /// The dialer for `url`; the error says what in it is wrong (a bad parameter, an
    /// unreadable root certificate file).
    pub(crate) fn new(url: &str) -> Result<Dialer, String> {
        let (client_url, tls) = split_tls(url)?;
        let mut config: postgres::Config = client_url
            .parse()
            .map_err(|e: postgres::Error| format!("not a PostgreSQL URL: {e}"))?;
        config.ssl_mode(match tls.mode {
            SslMode::Disable => postgres::config::SslMode::Disable,
            SslMode::Prefer => postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                postgres::config::SslMode::Require
            }
        });
        config.connect_timeout(CONNECT_TIMEOUT);
        config.keepalives(true);
        config.application_name("feedsift");
        let tls = match tls.mode {
            SslMode::Disable => None,
            _ => Some(MakeRustlsConnect::new(client_config(&tls)?)),
        };
        Ok(Dialer { config, tls })
    }

    /// A new connection.
    pub(crate) fn connect(&self) -> Result<Client, postgres::Error> {
        match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(NoTls),
        }
    }
}

fn client_config(tls: &StoreTls) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let algorithms = provider.signature_verification_algorithms;
    let chain = match (&tls.root_certs, tls.checks_certificate()) {
        (Some(certs), true) => Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(root_store(certs)?), provider)
                .build()
                .map_err(|e| format!("TLS: {e}"))?,
        ),
        (None, true) => return Err("a checked certificate needs sslrootcert".into()),
        (_, false) => None,
    };
    let verifier: Arc<dyn ServerCertVerifier> = match chain {
        Some(webpki) if tls.checks_host_name() => webpki,
        chain => Arc::new(Lenient { chain, algorithms }),
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// The CA certificates of `certs`: every certificate in the PEM file, or the public roots.
fn root_store(certs: &RootCerts) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    match certs {
        RootCerts::System => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        RootCerts::File(path) => {
            let named = |e: &dyn std::fmt::Display| format!("sslrootcert {}: {e}", path.display());
            for cert in CertificateDer::pem_file_iter(path).map_err(|e| named(&e))? {
                let cert = cert.map_err(|e| named(&e))?;
                store.add(cert).map_err(|e| named(&e))?;
            }
            if store.is_empty() {
                return Err(named(&"holds no PEM certificate"));
            }
        }
    }
    Ok(store)
}

/// What `verify-full` does not check: for `verify-ca` (and `require` with a root file) the
/// chain must reach a trusted CA but the certificate may name any host; for `prefer` and
/// `require` without a root file, as libpq, any certificate is taken. Either way the
/// handshake's signatures are checked, so the session is the certificate holder's.
#[derive(Debug)]
struct Lenient {
    /// The chain check; none: no check.
    chain: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
