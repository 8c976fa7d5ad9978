//! Operator commands against real processes: `explain` (directly, and through the running
//! daemon when it holds the store), `import-opml` and `export`.

use crate::support::{
    config, feed, feedsift, fixtures_dir, get, hn, stdout_of, topic, Upstream, Workspace, FEEDSIFT,
    HN_FRONT_PAGE,
};
use std::path::Path;

/// Hacker News' front page on a local upstream, and one topic `ds` over it. A `blog`
/// source points at a missing feed (404): only hn matters here.
async fn workspace() -> (Upstream, Workspace) {
    let up = Upstream::start().await;
    let config = config()
        .source(hn(up.serve("/hn", HN_FRONT_PAGE)))
        .source(feed("blog", up.url("/missing.xml")))
        .topic(
            topic("ds")
                .title("Distributed Systems")
                .min_relevance(2)
                .sources(&["hn"])
                .keywords(&[
                    ("raft", 3),
                    ("paxos", 3),
                    ("consensus", 2),
                    ("CAP theorem", 3),
                    ("replication", 2),
                ])
                .exclude(&["crypto airdrop"])
                .min_points(&[("hackernews", 100)]),
        );
    let ws = Workspace::new(&config);
    (up, ws)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_says_why_with_or_without_the_daemon() {
    let (_up, ws) = workspace().await;
    ws.fetch_once();

    let table = stdout_of(&ws.run(&["explain", "ds"]));
    assert!(
        table.starts_with("topic ds: 3 of 7 candidates in the feed"),
        "{table}"
    );
    for line in [
        "in the feed at #1",
        "excluded by \"crypto airdrop\"",
        "too few: Hacker News 61 pts < 100",
        "matched: consensus(+2, title) raft(+3, title)",
    ] {
        assert!(table.contains(line), "{line:?} missing from:\n{table}");
    }
    assert!(
        !table.contains("Sparkle.js"),
        "stories matching nothing are listed only with --all:\n{table}"
    );
    let all = stdout_of(&ws.run(&["explain", "ds", "--all"]));
    assert!(
        all.contains("Sparkle.js") && all.contains("relevance 0 < 2"),
        "{all}"
    );

    let json: serde_json::Value = serde_json::from_str(&stdout_of(&ws.run(&[
        "explain",
        "ds",
        "--json",
        "--story",
        "http://www.blog.example.org/posts/raft-in-practice/?utm_medium=x",
    ])))
    .unwrap();
    let stories = json["stories"].as_array().unwrap();
    assert_eq!(stories.len(), 1);
    assert_eq!(stories[0]["rank"], 1);
    assert_eq!(stories[0]["verdict"]["relevance"], 5.0);

    // With the daemon holding the store, the same answer comes through its HTTP API.
    let daemon = ws.serve().await;
    let remote: serde_json::Value = serde_json::from_str(&stdout_of(&ws.run(&[
        "explain",
        "ds",
        "--json",
        "--story",
        "https://blog.example.org/posts/raft-in-practice",
    ])))
    .unwrap();
    assert_eq!(remote["stories"], json["stories"]);
    let status: serde_json::Value = serde_json::from_str(&stdout_of(&ws.run(&["status"]))).unwrap();
    assert_eq!(status["sources"][0]["id"], "hn");
    let missing = ws.run(&["explain", "nope"]);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("unknown topic \"nope\" (topics: ds)")
    );
    daemon.stop_cleanly();
}

#[test]
fn import_opml_adds_new_feeds_once() {
    // Literal TOML: the import must keep the file's text (the comment, the URL as written).
    let ws = Workspace::with_body(
        "[[source]]\nid = \"blog\"\nkind = \"feed\"\nurl = \"https://www.blog.example.org/feed.xml/\"\n# keep this comment\n",
    );
    let opml = fixtures_dir().join("opml/subscriptions.opml");
    let out = stdout_of(&ws.run(&["import-opml", opml.to_str().unwrap()]));
    assert!(out.contains("skipped Example Systems Blog"), "{out}");
    assert!(out.contains("added   Infra Weekly                             https://infra-weekly.example.net/atom.xml (id infra-weekly)"), "{out}");
    assert!(out.contains("(id rust-news-digest)"), "{out}");
    assert!(out.contains("(id this-week-in-example)"), "{out}");
    assert!(out.contains("(id untitled-example-io)"), "{out}");
    assert!(out.contains("4 sources added"), "{out}");
    let config = std::fs::read_to_string(ws.config_path()).unwrap();
    assert!(config.contains("# keep this comment"));
    assert!(config.contains("[[source]]\nid = \"infra-weekly\"\nkind = \"feed\"\nurl = \"https://infra-weekly.example.net/atom.xml\"\nname = \"Infra Weekly\"\n"), "{config}");
    stdout_of(&ws.run(&["check"]));
    let again = stdout_of(&ws.run(&["import-opml", opml.to_str().unwrap()]));
    assert!(again.contains("nothing to add: 5 feeds"), "{again}");
    let bad = ws.run(&["import-opml", ws.config_path().to_str().unwrap()]);
    assert!(!bad.status.success());
}

fn mtimes(dir: &Path) -> Vec<(String, std::time::SystemTime)> {
    let mut out = Vec::new();
    for entry in walk(dir) {
        out.push((
            entry.display().to_string(),
            std::fs::metadata(&entry).unwrap().modified().unwrap(),
        ));
    }
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().is_dir() {
            files.extend(walk(&entry.path()));
        } else {
            files.push(entry.path());
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_the_served_bytes_and_rewrites_nothing_unchanged() {
    let (_up, ws) = workspace().await;
    ws.fetch_once();
    let out_dir = ws.dir.path().join("public");
    let first = stdout_of(&ws.run(&["export", "--out", out_dir.to_str().unwrap()]));
    assert!(first.contains("7 files written, 0 unchanged"), "{first}");
    for file in [
        "index.html",
        "opml.xml",
        "t/ds.rss",
        "t/ds.atom",
        "t/ds.json",
        "t/ds/index.html",
        "t/ds/embed/index.html",
    ] {
        assert!(out_dir.join(file).is_file(), "{file}");
    }
    let before = mtimes(&out_dir);
    std::thread::sleep(std::time::Duration::from_millis(50));
    let second = stdout_of(&ws.run(&["export", "--out", out_dir.to_str().unwrap()]));
    assert!(second.contains("0 files written, 7 unchanged"), "{second}");
    assert_eq!(mtimes(&out_dir), before);

    // The files hold exactly what the server sends, and exporting through the running
    // daemon changes nothing either.
    let daemon = ws.serve().await;
    for (file, path) in [
        ("t/ds.rss", "/t/ds.rss"),
        ("t/ds/index.html", "/t/ds"),
        ("opml.xml", "/opml"),
        ("index.html", "/"),
    ] {
        let served = get(&daemon.url(path)).await.bytes().await.unwrap();
        assert_eq!(
            std::fs::read(out_dir.join(file)).unwrap(),
            served.to_vec(),
            "{file}"
        );
    }
    let third = stdout_of(&ws.run(&["export", "--out", out_dir.to_str().unwrap()]));
    assert!(third.contains("0 files written, 7 unchanged"), "{third}");
    daemon.stop_cleanly();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_shows_progress_on_a_terminal_and_plain_lines_elsewhere() {
    let (_up, ws) = workspace().await;

    // Piped: plain lines, no escape codes; JSON logs carry one event per fetch.
    let piped = feedsift()
        .args(["fetch", "--once", "--log-format", "json", "--config"])
        .arg(ws.config_path())
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8(piped.stdout).unwrap(),
        String::from_utf8(piped.stderr).unwrap(),
    );
    assert!(
        !out.contains('\x1b') && !err.contains('\x1b'),
        "escape codes in a pipe:\n{out}\n{err}"
    );
    assert_eq!(out.lines().count(), 2, "{out}");
    let events: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let hn = events.iter().find(|e| e["source"] == "hn").unwrap();
    assert_eq!(hn["message"], "fetched");
    assert_eq!(hn["status"], 200);
    assert_eq!(hn["new"], 7);
    assert!(hn["bytes"].as_u64().unwrap() > 1000 && hn["ms"].is_u64());
    let failed = events.iter().find(|e| e["source"] == "blog").unwrap();
    assert_eq!(failed["level"], "WARN");
    assert!(failed["error"].as_str().unwrap().contains("404"));

    // On a terminal (a pseudo-terminal from `script`): the progress bar is drawn.
    let command = format!(
        "{FEEDSIFT} fetch --once --config {}",
        ws.config_path().display()
    );
    let tty = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output();
    match tty {
        Ok(tty) if tty.status.success() => {
            let screen = String::from_utf8_lossy(&tty.stdout);
            assert!(screen.contains("/2 fetching"), "{screen}");
            assert!(
                screen.contains("[########################] 2/2"),
                "{screen}"
            );
            assert!(screen.contains("\x1b[2K"), "{screen}");
        }
        other => {
            eprintln!("no `script` to make a pseudo-terminal, progress bar not checked: {other:?}")
        }
    }
}
