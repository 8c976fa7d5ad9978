//! The store over TLS to a real PostgreSQL that offers it: libpq's `sslmode` and
//! `sslrootcert` in `[store] url`, certificates checked as libpq checks them, SCRAM with
//! channel binding, and a clear error naming the database when a check does not pass.

use crate::support::postgres::{database, psql, tls_server};
use feedsift::store::{PgOptions, Store};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// The password of the role that logs in with SCRAM.
const SCRAM_PASSWORD: &str = "c0rrect-h0rse";

/// One TLS cluster per test process, its certificate for `localhost` only, signed by a CA
/// of its own. `scram` logs in with a password (SCRAM-SHA-256); `feedsift` needs none.
struct TlsCluster {
    port: u16,
    maintenance: String,
    /// The cluster's directory: its Unix socket, the CA files.
    dir: PathBuf,
}

impl TlsCluster {
    fn ca_file(&self) -> String {
        self.dir.join("ca.pem").display().to_string()
    }

    fn other_ca_file(&self) -> String {
        self.dir.join("other-ca.pem").display().to_string()
    }

    /// A new empty database owned by `owner`, and its URL as `user_at_host` (`user@host`,
    /// no port) with `query` (no `?` when empty).
    fn database(&self, user_at_host: &str, query: &str) -> (String, String) {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "tls_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let owner = user_at_host.split([':', '@']).next().unwrap_or("feedsift");
        psql(
            &self.maintenance,
            &format!("CREATE DATABASE {name} OWNER {owner}"),
        );
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        let url = format!("postgres://{user_at_host}:{}/{name}{query}", self.port);
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
        let (maintenance, dir) = tls_server(&server.pem(), &server_key.serialize_pem());
        std::fs::write(dir.join("ca.pem"), ca.pem()).expect("ca.pem");
        let (other, other_key) = authority("another CA");
        std::fs::write(dir.join("other-ca.pem"), other.pem()).expect("other-ca.pem");
        // `scram` must give its password, over TLS or not; `certified` a certificate our CA
        // signed for that name; everyone else is trusted.
        psql(
            &maintenance,
            &format!("CREATE ROLE scram LOGIN PASSWORD '{SCRAM_PASSWORD}'"),
        );
        psql(&maintenance, "CREATE ROLE certified LOGIN");
        std::fs::write(dir.join("data/client-ca.pem"), ca.pem()).expect("client-ca.pem");
        psql(
            &maintenance,
            "ALTER SYSTEM SET ssl_ca_file = 'client-ca.pem'",
        );
        let hba = dir.join("data/pg_hba.conf");
        let rules = std::fs::read_to_string(&hba).expect("pg_hba.conf");
        std::fs::write(
            &hba,
            format!(
                "host all scram 0.0.0.0/0 scram-sha-256\nhostssl all certified 0.0.0.0/0 cert\n\
                 host all certified 0.0.0.0/0 reject\n{rules}"
            ),
        )
        .expect("pg_hba.conf written");
        psql(&maintenance, "SELECT pg_reload_conf()");
        for (name, signer, signer_key) in
            [("client", &ca, &ca_key), ("stranger", &other, &other_key)]
        {
            let key = rcgen::KeyPair::generate().expect("key");
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, "certified");
            let cert = params.signed_by(&key, signer, signer_key).expect("signed");
            std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).expect("cert");
            std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).expect("key");
        }
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

/// feedsift's connections to database `name` once at least two are open (the change
/// listener and a pool connection open at start): (with TLS, without).
fn connections(name: &str) -> (usize, usize) {
    let count = || {
        let rows = psql(
            &cluster().maintenance,
            &format!(
                "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
                 WHERE a.datname = '{name}' AND a.application_name = 'feedsift'"
            ),
        );
        let with = rows.lines().filter(|r| *r == "t").count();
        (with, rows.lines().count() - with)
    };
    let mut seen = count();
    for _ in 0..100 {
        if seen.0 + seen.1 >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        seen = count();
    }
    seen
}

fn assert_all_tls(name: &str) {
    let (with, without) = connections(name);
    assert!(
        with >= 2 && without == 0,
        "with TLS {with}, without {without}"
    );
}

fn assert_no_tls(name: &str) {
    let (with, without) = connections(name);
    assert!(
        with == 0 && without >= 2,
        "with TLS {with}, without {without}"
    );
}

#[test]
fn verify_full_with_the_servers_ca_encrypts_every_connection_of_the_store() {
    let c = cluster();
    let query = format!("sslmode=verify-full&sslrootcert={}", c.ca_file());
    let (name, url) = c.database("feedsift@localhost", &query);
    let store = open(&url).expect("verify-full against the right CA");
    assert_eq!(store.story_count(), 0);
    assert_all_tls(&name);
}

#[test]
fn a_certificate_from_a_ca_not_trusted_is_refused_with_the_database_named() {
    let c = cluster();
    for mode in ["verify-full", "verify-ca", "require"] {
        let query = format!("sslmode={mode}&sslrootcert={}", c.other_ca_file());
        let (_, url) = c.database("feedsift@localhost", &query);
        let err = open(&url)
            .err()
            .expect("another CA's certificate is refused");
        assert!(
            err.starts_with(&format!("store postgres://feedsift@localhost:{}/", c.port)),
            "{err}"
        );
        assert!(
            err.contains("invalid peer certificate: UnknownIssuer"),
            "{mode}: {err}"
        );
    }
}

#[test]
fn verify_full_checks_the_host_name_and_verify_ca_does_not() {
    let c = cluster();
    let root = c.ca_file();
    // The certificate names `localhost`, not 127.0.0.1.
    let query = format!("sslmode=verify-full&sslrootcert={root}");
    let (_, url) = c.database("feedsift@127.0.0.1", &query);
    let err = open(&url).err().expect("the name does not match");
    assert!(
        err.contains("certificate not valid for name \"127.0.0.1\""),
        "{err}"
    );
    let query = format!("sslmode=verify-ca&sslrootcert={root}");
    let (name, url) = c.database("feedsift@127.0.0.1", &query);
    let _store = open(&url).expect("verify-ca checks the chain only");
    assert_all_tls(&name);
}

#[test]
fn each_sslmode_connects_the_way_libpq_does() {
    let c = cluster();
    let wrong_root = format!("sslmode=prefer&sslrootcert={}", c.other_ca_file());
    // (user@host, query, encrypted, why it connects)
    let cases = [
        // No sslmode is `prefer`: TLS when the server offers it, any certificate.
        (
            "feedsift@127.0.0.1",
            "",
            true,
            "prefer takes any certificate",
        ),
        (
            "feedsift@127.0.0.1",
            "sslmode=require",
            true,
            "require without a root file checks nothing",
        ),
        // `allow` tries plain TCP first, and the server takes it.
        ("feedsift@127.0.0.1", "sslmode=allow", false, "allow"),
        ("feedsift@127.0.0.1", "sslmode=disable", false, "disable"),
        // `prefer` with a root file checks the certificate, and when it fails goes on without
        // TLS, as libpq does: only verify-ca and verify-full insist.
        (
            "feedsift@localhost",
            wrong_root.as_str(),
            false,
            "prefer falls back to plain TCP",
        ),
    ];
    for (user_at_host, query, encrypted, why) in cases {
        let (name, url) = c.database(user_at_host, query);
        let _store = open(&url).expect(why);
        if encrypted {
            assert_all_tls(&name);
        } else {
            assert_no_tls(&name);
        }
    }
}

#[test]
fn over_the_unix_socket_no_tls_is_tried_as_libpq_does() {
    let c = cluster();
    let socket_dir = c.dir.display().to_string().replace('/', "%2F");
    let (name, url) = c.database(&format!("feedsift@{socket_dir}"), "sslmode=require");
    let _local = open(&url).expect("sslmode means nothing on a Unix socket");
    assert_no_tls(&name);
}

#[test]
fn scram_over_verified_tls_binds_the_login_to_the_channel() {
    let c = cluster();
    let query = format!(
        "sslmode=verify-full&sslrootcert={}&channel_binding=require",
        c.ca_file()
    );
    let (name, url) = c.database(&format!("scram:{SCRAM_PASSWORD}@localhost"), &query);
    let store = open(&url).expect("SCRAM-SHA-256-PLUS over TLS");
    assert_eq!(store.story_count(), 0);
    assert_all_tls(&name);
    // A wrong password is refused, and the right one never shows in the error.
    let wrong = url.replace(SCRAM_PASSWORD, "wr0ng");
    let err = open(&wrong).err().expect("wrong password");
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(
        !err.contains("wr0ng") && !err.contains(SCRAM_PASSWORD),
        "{err}"
    );
}

#[test]
fn a_client_certificate_from_sslcert_and_sslkey_logs_in() {
    let c = cluster();
    let file = |name: &str| c.dir.join(name).display().to_string();
    let verified = format!("sslmode=verify-full&sslrootcert={}", c.ca_file());
    let query = format!(
        "{verified}&sslcert={}&sslkey={}",
        file("client.pem"),
        file("client.key")
    );
    let (name, url) = c.database("certified@localhost", &query);
    let store = open(&url).expect("the server takes the certificate");
    assert_eq!(store.story_count(), 0);
    assert_all_tls(&name);
    // Without one, or with one another CA signed, the server says no.
    let (_, url) = c.database("certified@localhost", &verified);
    let err = open(&url).err().expect("no certificate");
    assert!(err.contains("28000"), "{err}");
    let query = format!(
        "{verified}&sslcert={}&sslkey={}",
        file("stranger.pem"),
        file("stranger.key")
    );
    let (_, url) = c.database("certified@localhost", &query);
    assert!(open(&url).is_err(), "a stranger's certificate is refused");
    // A key that is not there is named.
    let query = format!(
        "{verified}&sslcert={}&sslkey={}",
        file("client.pem"),
        file("no-such.key")
    );
    let (_, url) = c.database("certified@localhost", &query);
    let err = open(&url).err().expect("no key");
    assert!(
        err.contains(&format!("sslkey {}", file("no-such.key"))),
        "{err}"
    );
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
    let missing = c.dir.join("no-such-ca.pem");
    let query = format!("sslmode=verify-full&sslrootcert={}", missing.display());
    let (_, url) = c.database("feedsift@localhost", &query);
    let err = open(&url).err().expect("no such file");
    assert!(
        err.contains(&format!("sslrootcert {}", missing.display())),
        "{err}"
    );
    let not_pem = c.dir.join("not-pem.txt");
    std::fs::write(&not_pem, "hello").expect("write");
    let query = format!("sslmode=verify-ca&sslrootcert={}", not_pem.display());
    let (_, url) = c.database("feedsift@localhost", &query);
    let err = open(&url).err().expect("no certificate in it");
    assert!(err.contains("holds no PEM certificate"), "{err}");
}

#[test]
fn a_server_that_takes_the_connection_and_never_answers_costs_the_deadline_not_forever() {
    // Accepts every connection and holds it, saying nothing: no TLS answer, no login.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    for mode in ["require", "disable"] {
        let url =
            format!("postgres://feedsift@127.0.0.1:{port}/x?connect_timeout=1&sslmode={mode}");
        // On a thread, so a build that waits forever fails here instead of hanging the run.
        let (done, outcome) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let _ = done.send((open(&url).err(), started.elapsed()));
        });
        let (err, took) = outcome
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{mode}: opening the store never gave up"));
        let err = err.expect("nothing answers");
        // The deadline is three socket timeouts; generous slack for a busy machine.
        assert!(took < Duration::from_secs(20), "{mode}: {took:?}");
        assert!(
            err.ends_with(
                "no connection within 3 s: the server took it but did not finish TLS or the login"
            ),
            "{mode}: {err}"
        );
    }
}
