//! How a node opens a connection to PostgreSQL: the client's settings from the URL, and the
//! TLS its `sslmode` asks for (rustls), tried in libpq's order with the server's certificate
//! checked as libpq would.

use super::pool::error_detail;
use crate::config::store_tls::{client_config, RootCerts, SslMode, StoreTls};
use postgres::config::{Host, SslMode as ClientSslMode};
use postgres::{Client, NoTls};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, WebPkiServerVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore};
use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::Duration;
use tokio_postgres_rustls::MakeRustlsConnect;

/// How long a socket may take to connect, unless the URL's `connect_timeout` says.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long opening a connection may take in all, as a multiple of the socket's timeout:
/// a server that takes the connection and never finishes TLS or the login costs a caller
/// this, not forever (the client's own timeout covers the socket only).
const OPEN_DEADLINE_FACTOR: u32 = 3;

/// One way of connecting, tried in turn until one works.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Attempt {
    Plain,
    /// TLS, or plain TCP within the same attempt when the server offers no TLS.
    TlsIfOffered,
    Tls,
}

/// Everything a connection of this node needs to be opened, cloned into each connection.
#[derive(Clone)]
pub(crate) struct Dialer {
    config: postgres::Config,
    attempts: Vec<Attempt>,
    tls: Option<MakeRustlsConnect>,
}

/// Why no connection could be opened.
pub(crate) enum DialError {
    /// Each attempt's error, in order.
    Failed(Vec<(Attempt, postgres::Error)>),
    /// No answer within the deadline.
    TimedOut(Duration),
    /// The thread that opens connections could not be started, or died.
    Lost(String),
}

impl DialError {
    /// Every attempt's reason; with more than one, each says how it connected.
    pub(crate) fn detail(&self) -> String {
        let attempts = match self {
            DialError::Failed(attempts) => attempts,
            DialError::TimedOut(deadline) => {
                return format!(
                    "no connection within {} s: the server took it but did not finish TLS or \
                     the login",
                    deadline.as_secs()
                )
            }
            DialError::Lost(why) => return why.clone(),
        };
        if let [(_, only)] = attempts.as_slice() {
            return error_detail(only);
        }
        let parts: Vec<String> = attempts
            .iter()
            .map(|(attempt, e)| {
                let how = if *attempt == Attempt::Plain {
                    "without TLS"
                } else {
                    "with TLS"
                };
                format!("{how}: {}", error_detail(e))
            })
            .collect();
        parts.join("; ")
    }
}

impl std::fmt::Display for DialError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail())
    }
}

impl Dialer {
    /// The dialer for `url`; the error says what in it is wrong (a bad parameter, an
    /// unreadable root certificate file).
    pub(crate) fn new(url: &str) -> Result<Dialer, String> {
        let (mut config, tls) = client_config(url)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.keepalives(true);
        config.application_name("feedsift");
        // libpq uses no TLS on Unix sockets, whatever sslmode says.
        let local = !config.get_hosts().is_empty()
            && config
                .get_hosts()
                .iter()
                .all(|h| matches!(h, Host::Unix(_)));
        let attempts = match (local, tls.mode) {
            (true, _) | (_, SslMode::Disable) => vec![Attempt::Plain],
            (_, SslMode::Allow) => vec![Attempt::Plain, Attempt::Tls],
            (_, SslMode::Prefer) => vec![Attempt::TlsIfOffered, Attempt::Plain],
            (_, SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull) => {
                vec![Attempt::Tls]
            }
        };
        let tls = if attempts == [Attempt::Plain] {
            None
        } else {
            Some(MakeRustlsConnect::new(tls_config(&tls)?))
        };
        Ok(Dialer {
            config,
            attempts,
            tls,
        })
    }

    /// A new connection, by the first attempt that works.
    pub(crate) fn connect(&self) -> Result<Client, DialError> {
        let mut errors = Vec::new();
        for attempt in &self.attempts {
            let mut config = self.config.clone();
            let connected = match (attempt, &self.tls) {
                (Attempt::TlsIfOffered, Some(tls)) => {
                    config.ssl_mode(ClientSslMode::Prefer).connect(tls.clone())
                }
                (Attempt::Tls, Some(tls)) => {
                    config.ssl_mode(ClientSslMode::Require).connect(tls.clone())
                }
                _ => config.ssl_mode(ClientSslMode::Disable).connect(NoTls),
            };
            match connected {
                Ok(client) => return Ok(client),
                Err(e) => {
                    // As libpq: the next way is tried only if this one reached the server.
                    let unreachable = unreachable(&e);
                    errors.push((*attempt, e));
                    if unreachable {
                        break;
                    }
                }
            }
        }
        Err(DialError::Failed(errors))
    }

    /// How long opening a connection may take in all.
    fn open_deadline(&self) -> Duration {
        self.config
            .get_connect_timeout()
            .copied()
            .unwrap_or(CONNECT_TIMEOUT)
            .saturating_mul(OPEN_DEADLINE_FACTOR)
    }
}

/// Opens connections by a `Dialer` on a thread of its own, so a caller waits at most the
/// open deadline. One opening at a time: a caller that gave up leaves it running, and the
/// next caller waits for that one first instead of starting another.
pub(crate) struct Opener {
    dialer: Dialer,
    pending: Option<mpsc::Receiver<Result<Client, DialError>>>,
}

impl Opener {
    pub(crate) fn new(dialer: Dialer) -> Opener {
        Opener {
            dialer,
            pending: None,
        }
    }

    /// A new connection, or why there is none within the deadline.
    pub(crate) fn open(&mut self) -> Result<Client, DialError> {
        let deadline = self.dialer.open_deadline();
        let opening = match self.pending.take() {
            Some(opening) => opening,
            None => {
                let (done, opening) = mpsc::channel();
                let dialer = self.dialer.clone();
                std::thread::Builder::new()
                    .name("feedsift-pg-open".into())
                    .spawn(move || {
                        let _ = done.send(dialer.connect());
                    })
                    .map_err(|e| DialError::Lost(format!("cannot start a thread: {e}")))?;
                opening
            }
        };
        match opening.recv_timeout(deadline) {
            Ok(opened) => opened,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                self.pending = Some(opening);
                Err(DialError::TimedOut(deadline))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(DialError::Lost("the connecting thread died".into()))
            }
        }
    }
}

/// The server could not be reached at all (refused, timed out): another way of talking to
/// it would fare no better. The client names its error kinds only in their text.
fn unreachable(e: &postgres::Error) -> bool {
    let text = e.to_string();
    text.starts_with("error connecting to server") || text.starts_with("timeout waiting for server")
}

fn tls_config(tls: &StoreTls) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let algorithms = provider.signature_verification_algorithms;
    let roots = match &tls.root_certs {
        Some(certs) => Some(Arc::new(root_store(certs)?)),
        None => None,
    };
    let verifier: Arc<dyn ServerCertVerifier> = match roots {
        Some(roots) if tls.checks_host_name() => {
            WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|e| format!("TLS: {e}"))?
        }
        roots => Arc::new(Lenient { roots, algorithms }),
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    Ok(match &tls.client_cert {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = certificates(cert, "sslcert")?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| format!("sslkey {}: {e}", key.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("sslcert {} with its sslkey: {e}", cert.display()))?
        }
    })
}

/// Every certificate in the PEM file `path` (`what` names the parameter in errors).
fn certificates(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let named = |e: &dyn std::fmt::Display| format!("{what} {}: {e}", path.display());
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| named(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| named(&e))?;
    if certs.is_empty() {
        return Err(named(&"holds no PEM certificate"));
    }
    Ok(certs)
}

/// The CA certificates of `certs`: every certificate in the PEM file, or the public roots.
fn root_store(certs: &RootCerts) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    match certs {
        RootCerts::System => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        RootCerts::File(path) => {
            for cert in certificates(path, "sslrootcert")? {
                store
                    .add(cert)
                    .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
            }
        }
    }
    Ok(store)
}

/// What `verify-full` does not check. With `roots` (`verify-ca`, or another mode with a
/// root file), the chain must reach one of them, valid now, whatever host it names; without
/// (`prefer`, `allow` and `require` without a root file, as libpq), any certificate is
/// taken: the traffic is encrypted, but nothing proves who holds the other end. The
/// handshake's signatures are checked either way.
#[derive(Debug)]
struct Lenient {
    roots: Option<Arc<RootCertStore>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(roots) = &self.roots {
            let cert = ParsedCertificate::try_from(end_entity)?;
            verify_server_cert_signed_by_trust_anchor(
                &cert,
                roots,
                intermediates,
                now,
                self.algorithms.all,
            )?;
        }
        Ok(ServerCertVerified::assertion())
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
