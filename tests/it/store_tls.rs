//! The store over TLS to a real PostgreSQL that offers it: libpq's `sslmode` and
//! `sslrootcert` in `[store] url`, certificates checked as libpq checks them, and a clear
//! error naming the database when they do not pass.

use crate::support::postgres::{database, psql, tls_server};
use feedsift::store::{PgOptions, Store};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// One TLS cluster per test process, its certificate for `localhost` only, signed by a CA
/// of its own.
struct TlsCluster {
    /// Port of the cluster (the maintenance URL is `postgres://feedsift@127.0.0.1:PORT/postgres`).
    port: u16,
    maintenance: String,
    dir: tempfile::TempDir,
}

impl TlsCluster {
    fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn other_ca_file(&self) -> PathBuf {
        self.dir.path().join("other-ca.pem")
    }

    /// A new empty database, and its URL at `host` with `query` (no `?` when empty).
    fn database(&self, host: &str, query: &str) -> (String, String) {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "tls_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        psql(&self.maintenance, &format!("CREATE DATABASE {name}"));
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        let url = format!("postgres://feedsift@{host}:{}/{name}{query}", self.port);
        (name, url)
    }
}

fn cluster() -> &'static TlsCluster {
    static CLUSTER: OnceLock<TlsCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let (ca, ca_key) = authority("feedsift test CA");
        let server_key = rcgen::KeyPair::generate().expect("key");
        let server = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .expect("params")
            .signed_by(&server_key, &ca, &ca_key)
            .expect("signed");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).expect("ca.pem");
        let (other, _) = authority("another CA");
        std::fs::write(dir.path().join("other-ca.pem"), other.pem()).expect("other-ca.pem");
        let maintenance = tls_server(&server.pem(), &server_key.serialize_pem());
        let port = maintenance
            .rsplit(':')
            .next()
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .expect("port in the URL");
        TlsCluster {
            port,
            maintenance,
            dir,
        }
    })
}

/// A self-signed certificate authority named `name`.
fn authority(name: &str) -> (rcgen::Certificate, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let cert = params.self_signed(&key).expect("self-signed");
    (cert, key)
}

fn open(url: &str) -> Result<Store, String> {
    Store::open_postgres(&PgOptions {
        url: url.to_string(),
        node_id: "tls-node".into(),
        connections: 2,
        lease: Duration::from_secs(30),
    })
    .map_err(|e| e.to_string())
}

/// feedsift's connections to database `name`: (with TLS, without).
fn connections(name: &str) -> (usize, usize) {
    let rows = psql(
        &cluster().maintenance,
        &format!(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.datname = '{name}' AND a.application_name = 'feedsift'"
        ),
    );
    let with = rows.lines().filter(|r| *r == "t").count();
    let without = rows.lines().filter(|r| *r == "f").count();
    (with, without)
}

/// Waits for the store's connections (pool, write lock, listener) to show in the server's
/// views, which happens as they open.
fn settled_connections(name: &str) -> (usize, usize) {
    let mut seen = connections(name);
    for _ in 0..50 {
        if seen.0 + seen.1 >= 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        seen = connections(name);
    }
    seen
}

#[test]
fn verify_full_with_the_servers_ca_encrypts_every_connection_of_the_store() {
    let c = cluster();
    let query = format!("sslmode=verify-full&sslrootcert={}", c.ca_file().display());
    let (name, url) = c.database("localhost", &query);
    let store = open(&url).expect("verify-full against the right CA");
    assert_eq!(store.story_count(), 0);
    let (with, without) = settled_connections(&name);
    assert!(with >= 3, "TLS connections: {with}");
    assert_eq!(without, 0, "a connection without TLS");
}

#[test]
fn a_certificate_from_a_ca_not_trusted_is_refused_with_the_database_named() {
    let c = cluster();
    let query = format!(
        "sslmode=verify-full&sslrootcert={}",
        c.other_ca_file().display()
    );
    let (_, url) = c.database("localhost", &query);
    let err = open(&url)
        .err()
        .expect("another CA's certificate is refused");
    assert!(
        err.starts_with(&format!("store postgres://feedsift@localhost:{}/", c.port)),
        "{err}"
    );
    assert!(err.contains("invalid peer certificate"), "{err}");
    assert!(err.contains("UnknownIssuer"), "{err}");
}

#[test]
fn verify_full_checks_the_host_name_and_verify_ca_does_not() {
    let c = cluster();
    let root = c.ca_file().display().to_string();
    // The certificate names `localhost`, not 127.0.0.1.
    let (_, url) = c.database(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={root}"),
    );
    let err = open(&url).err().expect("the name does not match");
    assert!(err.contains("invalid peer certificate"), "{err}");
    assert!(err.contains("not valid for name \"127.0.0.1\""), "{err}");
    let (name, url) = c.database(
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={root}"),
    );
    let _store = open(&url).expect("verify-ca checks the chain only");
    assert_eq!(settled_connections(&name).1, 0);
}

#[test]
fn without_sslmode_tls_is_used_when_offered_and_disable_turns_it_off() {
    let c = cluster();
    let (name, url) = c.database("127.0.0.1", "");
    let _preferred = open(&url).expect("prefer (the default) takes any certificate");
    let (with, without) = settled_connections(&name);
    assert!(with >= 3 && without == 0, "with {with}, without {without}");
    let (name, url) = c.database("127.0.0.1", "sslmode=require");
    let _required = open(&url).expect("require without a root file checks nothing");
    assert_eq!(settled_connections(&name).1, 0);
    let (name, url) = c.database("127.0.0.1", "sslmode=disable");
    let _plain = open(&url).expect("disable");
    let (with, without) = settled_connections(&name);
    assert!(with == 0 && without >= 3, "with {with}, without {without}");
}

#[test]
fn require_against_a_server_without_tls_fails_and_says_why() {
    // The shared test cluster offers no TLS.
    let url = format!("{}?sslmode=require", database());
    let err = open(&url).err().expect("no TLS there");
    assert!(
        err.starts_with("store postgres://feedsift@127.0.0.1:"),
        "{err}"
    );
    assert!(err.ends_with("server does not support TLS"), "{err}");
    // `prefer` (the default) there goes on without it.
    open(&database()).expect("prefer falls back to plain TCP");
}

#[test]
fn an_unreadable_root_certificate_file_is_named() {
    let c = cluster();
    let missing = c.dir.path().join("no-such-ca.pem");
    let (_, url) = c.database(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", missing.display()),
    );
    let err = open(&url).err().expect("no such file");
    assert!(
        err.contains(&format!("sslrootcert {}", missing.display())),
        "{err}"
    );
    let not_pem = c.dir.path().join("not-pem.txt");
    std::fs::write(&not_pem, "hello").expect("write");
    let (_, url) = c.database(
        "localhost",
        &format!("sslmode=verify-ca&sslrootcert={}", not_pem.display()),
    );
    let err = open(&url).err().expect("no certificate in it");
    assert!(err.contains("holds no PEM certificate"), "{err}");
}
