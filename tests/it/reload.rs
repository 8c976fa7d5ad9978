//! Reload under a running daemon (a real process): a new topic and source in feeds.toml are
//! served and polled without a restart; a broken config is logged and the old one keeps
//! serving; SIGHUP reloads too.

use crate::support::{
    config, get, hn, lobsters, status_of, topic, wait_for_status, ConfigBuilder, Upstream,
    Workspace, HN_FRONT_PAGE, LOBSTERS_HOTTEST,
};
use std::time::{Duration, Instant};

/// Hacker News and a topic `ds` over it.
fn hn_only(up: &Upstream) -> ConfigBuilder {
    config().source(hn(up.url("/hn"))).topic(
        topic("ds")
            .title("Distributed Systems")
            .keywords(&[("raft", 1)]),
    )
}

/// `hn_only`, plus Lobsters and an OCaml topic over it, with this slug and window.
fn with_lobsters(up: &Upstream, slug: &str, window: &str) -> ConfigBuilder {
    hn_only(up).source(lobsters(up.url("/lobsters"))).topic(
        topic(slug)
            .title("OCaml")
            .window(window)
            .sources(&["lobsters"])
            .keywords(&[("ocaml", 1)]),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_changes_apply_without_a_restart() {
    let up = Upstream::start().await;
    up.serve("/hn", HN_FRONT_PAGE);
    up.serve("/lobsters", LOBSTERS_HOTTEST);
    let ws = Workspace::new(&hn_only(&up));
    let daemon = ws.serve().await;
    wait_for_status(&daemon.url("/t/ds.rss"), 200, Duration::from_secs(15)).await;
    assert_eq!(status_of(&daemon.url("/t/ocaml.rss")).await, 404);

    // A new topic and a new source: served, and the source is polled.
    let good = with_lobsters(&up, "ocaml", "3650d");
    ws.write_config(&good);
    wait_for_status(&daemon.url("/t/ocaml.rss"), 200, Duration::from_secs(15)).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let rss = get(&daemon.url("/t/ocaml.rss")).await.text().await.unwrap();
        if rss.contains("Paxos in 200 lines of OCaml") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new source was never polled:\n{rss}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up.hits("/lobsters").0 >= 1);

    // A broken config: logged, and the running one keeps serving.
    ws.write_config(&with_lobsters(&up, "ocaml", "forever"));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(status_of(&daemon.url("/t/ocaml.rss")).await, 200);
    assert_eq!(status_of(&daemon.url("/t/ds.rss")).await, 200);

    // SIGHUP reloads as well. The change keeps the file's size and modification time, so
    // only the signal can reveal it.
    ws.write_config(&good);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let reference = ws.dir.path().join("reference");
    std::fs::write(&reference, "").unwrap();
    std::process::Command::new("touch")
        .arg("-r")
        .arg(ws.config_path())
        .arg(&reference)
        .status()
        .unwrap();
    let renamed = with_lobsters(&up, "ocamx", "3650d");
    assert_eq!(
        renamed.on_port(ws.port).to_toml().len(),
        good.on_port(ws.port).to_toml().len()
    );
    ws.write_config(&renamed);
    std::process::Command::new("touch")
        .arg("-r")
        .arg(&reference)
        .arg(ws.config_path())
        .status()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        status_of(&daemon.url("/t/ocaml.rss")).await,
        200,
        "no reload without the signal"
    );
    std::process::Command::new("kill")
        .args(["-HUP", &daemon.pid().to_string()])
        .status()
        .unwrap();
    wait_for_status(&daemon.url("/t/ocaml.rss"), 404, Duration::from_secs(15)).await;
    assert_eq!(status_of(&daemon.url("/t/ocamx.rss")).await, 200);

    let stderr = daemon.stop_cleanly();
    assert!(
        stderr.contains("config reload failed, still running the previous config"),
        "{stderr}"
    );
    assert!(
        stderr.contains("feeds.toml:")
            && stderr.contains("key `topic[1].window`: invalid duration \"forever\""),
        "{stderr}"
    );
}
