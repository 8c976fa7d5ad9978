//! A throwaway PostgreSQL server for tests: `database()` hands each caller a fresh, empty
//! database of its own; `psql(url, sql)` inspects one.
//!
//! One cluster per test process, started on first use by `scripts/pg-cluster.sh start` in a
//! short directory under /tmp (a unix socket path holds 107 bytes) and listening on a free
//! 127.0.0.1 port. The harness has no teardown hook, so a watchdog started before the cluster
//! waits for this process to end (EOF on a pipe only this process holds: no pid to recycle,
//! SIGKILL included), then stops the cluster and removes its directory.
//!
//! `FEEDSIFT_TEST_PG_URL=postgres://user@host:port/db` (a user who may CREATE DATABASE) uses
//! that server instead. Without PostgreSQL the tests fail, they do not skip.
//!
//! Self-contained (std and tempfile only): the integration tests declare it in
//! `tests/it/support.rs`, the library's unit tests include it by `#[path]`.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// An existing server to create the test databases on, instead of a cluster of our own.
pub const URL_ENV: &str = "FEEDSIFT_TEST_PG_URL";

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg-cluster.sh");

struct Server {
    /// A URL of the server's maintenance database, where the test databases are created.
    url: String,
    /// Makes database names unique on a shared server across runs (empty for our own).
    tag: String,
    /// The watchdog's stdin: it stops the cluster once this end closes, at process exit.
    _watchdog: Option<ChildStdin>,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
static NEXT_DATABASE: AtomicUsize = AtomicUsize::new(0);

/// The URL of a new, empty database of its own (`.../t_<pid>_<n>`) on this process's server.
pub fn database() -> String {
    let server = match SERVER.get_or_init(start) {
        Ok(server) => server,
        Err(message) => panic!("{message}"),
    };
    let n = NEXT_DATABASE.fetch_add(1, Ordering::Relaxed);
    let name = format!("t_{}{}_{n}", std::process::id(), server.tag);
    psql(&server.url, &format!("CREATE DATABASE {name}"));
    with_database(&server.url, &name)
}

/// Runs `sql` with `psql -At` against `url`; its output without the last newline (rows on
/// lines, columns split by `|`). Panics when psql fails.
pub fn psql(url: &str, sql: &str) -> String {
    let output = Command::new(psql_program())
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run psql ({:?}): {e}", psql_program()));
    assert!(
        output.status.success(),
        "psql -d {url} -c {sql:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim_end()
    );
    let stdout = String::from_utf8(output.stdout).expect("psql printed UTF-8");
    stdout.strip_suffix('\n').unwrap_or(&stdout).to_string()
}

/// `url` naming database `name` instead of its own (user, host, port and parameters kept).
pub fn with_database(url: &str, name: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let (scheme, rest) = url.split_at(scheme_end);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(authority_end);
    let query = path_and_query
        .find('?')
        .map_or("", |i| &path_and_query[i..]);
    format!("{scheme}{authority}/{name}{query}")
}

/// A cluster of its own that also offers TLS, with `cert_pem` (its certificate chain) and
/// `key_pem`: the URL of its maintenance database, and its directory (its Unix socket is
/// there, and its configuration in `data/`). Stopped and removed when this process ends.
/// Plain connections are taken too, as PostgreSQL's default `host` rule does.
pub fn tls_server(cert_pem: &str, key_pem: &str) -> (String, PathBuf) {
    // Kept for the life of this process: dropping one closes its watchdog's pipe.
    static KEPT: std::sync::Mutex<Vec<Server>> = std::sync::Mutex::new(Vec::new());
    let (server, dir) = start_cluster(&[("server.crt", cert_pem), ("server.key", key_pem)])
        .unwrap_or_else(|message| panic!("{message}"));
    let url = server.url.clone();
    KEPT.lock().unwrap_or_else(|p| p.into_inner()).push(server);
    (url, dir)
}

fn start() -> Result<Server, String> {
    if let Some(url) = std::env::var(URL_ENV).ok().filter(|url| !url.is_empty()) {
        return external(url);
    }
    start_cluster(&[]).map(|(server, _)| server)
}

/// A cluster in a new directory holding `files` (name, contents) when it starts.
fn start_cluster(files: &[(&str, &str)]) -> Result<(Server, PathBuf), String> {
    // /tmp itself, not $TMPDIR: the socket path must stay short.
    let dir = tempfile::Builder::new()
        .prefix("feedsift-pg-")
        .tempdir_in("/tmp")
        .map_err(|e| format!("cannot make a directory for the test PostgreSQL in /tmp: {e}"))?
        .keep();
    // First the watchdog, so even a start this process does not live through is cleaned up.
    let watchdog = spawn_watchdog(&dir)?;
    for (name, contents) in files {
        std::fs::write(dir.join(name), contents)
            .map_err(|e| format!("cannot write {name} for the test PostgreSQL: {e}"))?;
    }
    let output = Command::new("bash")
        .arg(SCRIPT)
        .arg("start")
        .arg(&dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run bash {SCRIPT}: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "the tests need PostgreSQL, and `{SCRIPT} start {}` failed ({}):\n{}\n\
             Install PostgreSQL (apt-get install postgresql), or point {URL_ENV} at a server \
             whose user may CREATE DATABASE.",
            dir.display(),
            output.status,
            stderr.trim_end()
        ));
    }
    let url = stdout.trim().to_string();
    if !url.starts_with("postgres://") || url.contains('\n') {
        return Err(format!(
            "{SCRIPT} start printed no URL but {stdout:?} ({stderr})"
        ));
    }
    let server = Server {
        url,
        tag: String::new(),
        _watchdog: Some(watchdog),
    };
    Ok((server, dir))
}

fn external(url: String) -> Result<Server, String> {
    let output = Command::new(psql_program())
        .args(["-X", "-q", "-A", "-t", "-d", &url, "-c", "SELECT 1"])
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "{URL_ENV} is set, but psql ({:?}) cannot run: {e}",
                psql_program()
            )
        })?;
    if !output.status.success() {
        return Err(format!(
            "{URL_ENV}={url}: cannot connect ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        ));
    }
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Ok(Server {
        url,
        tag: format!("_{secs}"),
        _watchdog: None,
    })
}

/// A shell in its own process group (a Ctrl-C at the tests does not stop it before they end)
/// that waits for EOF on its stdin, then stops the cluster in `dir` and removes `dir`. Only
/// this process holds the pipe's write end (Rust opens pipes close-on-exec), so EOF means
/// this process has ended, however it ended.
fn spawn_watchdog(dir: &std::path::Path) -> Result<ChildStdin, String> {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#"trap '' HUP INT; read -r _ || :; bash "$0" stop "$1"; rm -rf -- "$1""#)
        .arg(SCRIPT)
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start the watchdog shell for the test PostgreSQL: {e}"))?;
    Ok(child.stdin.take().expect("piped stdin"))
}

/// psql from the server's installation (`pg_config --bindir`, the newest
/// /usr/lib/postgresql/*/bin), else the one on PATH.
fn psql_program() -> &'static PathBuf {
    static PSQL: OnceLock<PathBuf> = OnceLock::new();
    PSQL.get_or_init(|| {
        let mut dirs = Vec::new();
        if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
            if out.status.success() {
                dirs.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
            }
        }
        let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let version = entry.file_name().to_str()?.parse().ok()?;
                Some((version, entry.path().join("bin")))
            })
            .collect();
        versioned.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
        dirs.extend(versioned.into_iter().map(|(_, dir)| dir));
        dirs.into_iter()
            .map(|dir| dir.join("psql"))
            .find(|psql| psql.is_file())
            .unwrap_or_else(|| PathBuf::from("psql"))
    })
}
