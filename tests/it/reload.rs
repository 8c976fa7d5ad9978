//! Reload under a running daemon (a real process): a new topic and source in feeds.toml are
//! served and polled without a restart; a broken config is logged and the old one keeps
//! serving; SIGHUP reloads too.

use crate::support::{client, get, Upstream, Workspace};
use std::time::{Duration, Instant};

fn body(up: &Upstream, with_rust: bool) -> String {
    let mut text = format!(
        r#"
[[source]]
id = "hn"
kind = "hackernews"
url = "{}"

[[topic]]
slug = "ds"
title = "Distributed Systems"
summaries = "feed"
window = "3650d"
[topic.keywords]
"raft" = 1
"#,
        up.url("/hn")
    );
    if with_rust {
        text.push_str(&format!(
            r#"
[[source]]
id = "lobsters"
kind = "lobsters"
url = "{}"

[[topic]]
slug = "ocaml"
title = "OCaml"
summaries = "feed"
window = "3650d"
sources = ["lobsters"]
[topic.keywords]
"ocaml" = 1
"#,
            up.url("/lobsters")
        ));
    }
    text
}

async fn status_of(url: &str) -> u16 {
    client()
        .get(url)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

async fn wait_for_status(url: &str, want: u16) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while status_of(url).await != want {
        assert!(Instant::now() < deadline, "{url} never answered {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn rewrite(ws: &Workspace, body: &str) {
    let text = std::fs::read_to_string(ws.config_path()).unwrap();
    let server = text.split("\n\n").next().unwrap().to_string();
    std::fs::write(ws.config_path(), format!("{server}\n\n{body}")).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_changes_apply_without_a_restart() {
    let up = Upstream::start().await;
    up.serve("/hn", "sites/hn_front_page.json");
    up.serve("/lobsters", "sites/lobsters_hottest.json");
    let ws = Workspace::new(&body(&up, false));
    let daemon = ws.serve().await;
    wait_for_status(&daemon.url("/t/ds.rss"), 200).await;
    assert_eq!(status_of(&daemon.url("/t/ocaml.rss")).await, 404);

    // A new topic and a new source: served, and the source is polled.
    rewrite(&ws, &body(&up, true));
    wait_for_status(&daemon.url("/t/ocaml.rss"), 200).await;
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
    let good = std::fs::read_to_string(ws.config_path()).unwrap();
    std::fs::write(
        ws.config_path(),
        good.replace(
            "window = \"3650d\"\nsources",
            "window = \"forever\"\nsources",
        ),
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(status_of(&daemon.url("/t/ocaml.rss")).await, 200);
    assert_eq!(status_of(&daemon.url("/t/ds.rss")).await, 200);

    // SIGHUP reloads as well. The change keeps the file's size and modification time, so
    // only the signal can reveal it.
    std::fs::write(ws.config_path(), &good).unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let reference = ws.dir.path().join("reference");
    std::fs::write(&reference, "").unwrap();
    std::process::Command::new("touch")
        .arg("-r")
        .arg(ws.config_path())
        .arg(&reference)
        .status()
        .unwrap();
    std::fs::write(
        ws.config_path(),
        good.replace("slug = \"ocaml\"", "slug = \"ocamx\""),
    )
    .unwrap();
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
    wait_for_status(&daemon.url("/t/ocaml.rss"), 404).await;
    assert_eq!(status_of(&daemon.url("/t/ocamx.rss")).await, 200);

    let (status, stderr) = daemon.stop();
    assert!(status.success(), "{stderr}");
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
