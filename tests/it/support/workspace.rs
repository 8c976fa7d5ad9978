//! The real `feedsift` binary: one-shot commands (`check`, `fetch --once`, ...) run against a
//! config in a temp dir, and `feedsift serve` as a daemon the test talks to over HTTP.

use super::config::ConfigBuilder;
use super::http::client;
use super::lib_api::Store;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const FEEDSIFT: &str = env!("CARGO_BIN_EXE_feedsift");

/// A command running the binary under test, no arguments or environment added.
pub fn feedsift() -> Command {
    Command::new(FEEDSIFT)
}

/// stdout of a command that must have succeeded (else its stderr fails the test).
pub fn stdout_of(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Runs `feedsift check` on `config` as it is (no `[server]` added), written to a temp
/// `feeds.toml`: returns success, stdout, and stderr with the temp path shortened to
/// `feeds.toml`.
pub fn check(config: &str) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feeds.toml");
    std::fs::write(&path, config).unwrap();
    let out = feedsift()
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr)
        .unwrap()
        .replace(&path.display().to_string(), "feeds.toml");
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        stderr,
    )
}

/// A free loopback port (bound then released: good enough for tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A config file and data dir in a temp dir; the server listens on a free loopback port.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl Workspace {
    /// Writes feeds.toml from `config`, with `[server]` on a free port and `data_dir = "data"`.
    pub fn new(config: &ConfigBuilder) -> Workspace {
        let ws = Workspace::empty();
        ws.write_config(config);
        ws
    }

    /// Writes feeds.toml: a `[server]` section on a free port, then `body` as it is (for
    /// tests about the file's own text).
    pub fn with_body(body: &str) -> Workspace {
        let ws = Workspace::empty();
        let port = ws.port;
        let config = format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nbase_url = \"http://127.0.0.1:{port}\"\ndata_dir = \"data\"\n\n{body}"
        );
        std::fs::write(ws.config_path(), config).unwrap();
        ws
    }

    fn empty() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().unwrap(),
            port: free_port(),
        }
    }

    /// Replaces feeds.toml with `config`, on the same port and data dir.
    pub fn write_config(&self, config: &ConfigBuilder) {
        std::fs::write(self.config_path(), config.on_port(self.port).to_toml()).unwrap();
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("feeds.toml")
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs `feedsift <args> --config <this config>` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_env(args, &[])
    }

    /// Runs `feedsift <args> --config <this config>` with these environment variables added.
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        feedsift()
            .args(args)
            .arg("--config")
            .arg(self.config_path())
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }

    /// The store in the data dir (no daemon may hold it).
    pub fn store(&self) -> Store {
        Store::open(&self.dir.path().join("data")).unwrap()
    }

    /// Runs `feedsift fetch --once`, asserting success; returns stdout.
    pub fn fetch_once(&self) -> String {
        let out = self.run(&["fetch", "--once"]);
        assert!(
            out.status.success(),
            "fetch failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Starts `feedsift serve` and waits until it answers.
    pub async fn serve(&self) -> Daemon {
        self.serve_with_env(&[]).await
    }

    /// Starts `feedsift serve` with these environment variables added (`RUST_LOG` is `warn`
    /// unless one of them sets it), and waits until it answers.
    pub async fn serve_with_env(&self, env: &[(&str, &str)]) -> Daemon {
        let child = feedsift()
            .args(["serve", "--config"])
            .arg(self.config_path())
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let daemon = Daemon {
            child: Some(child),
            base: self.base(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = client()
                .get(format!("{}/healthz", daemon.base))
                .send()
                .await
            {
                if r.status().is_success() {
                    return daemon;
                }
            }
            assert!(
                Instant::now() < deadline,
                "feedsift serve did not answer within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A running `feedsift serve`; stopped with SIGTERM on `stop` or drop.
pub struct Daemon {
    child: Option<Child>,
    pub base: String,
}

impl Daemon {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// SIGTERM, then waits: returns the exit status and stderr.
    pub fn stop(mut self) -> (std::process::ExitStatus, String) {
        let mut child = self.child.take().unwrap();
        terminate(&child);
        wait_with_timeout(&mut child, Duration::from_secs(10))
    }

    /// SIGTERM, then the daemon must exit 0: returns its stderr.
    pub fn stop_cleanly(self) -> String {
        let (status, stderr) = self.stop();
        assert!(status.success(), "serve exited with {status}: {stderr}");
        stderr
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn terminate(child: &Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> (std::process::ExitStatus, String) {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut stderr);
            }
            return (status, stderr);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("feedsift did not exit within {limit:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
