//! URLs that come from source content reach only public addresses: the real `feedsift`
//! binary, a listing whose article links point at a "secret" loopback server in every
//! spelling, and feeds that redirect there. The secret server must see no request unless
//! `allow_private_networks = true`. Its own small server: the secret one listens on IPv4 and
//! IPv6 loopback at one port.

use crate::support::bad_upstream::{redirect, response};
use crate::support::lib_api::{Store, Story};
use crate::support::Workspace;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET_PAGE: &str = "<html><head><title>Internal</title><meta name=\"description\" content=\"Internal notes: the admin password of the quorum replica set is hunter2.\"></head><body><article><p>The internal admin password is hunter2 and the database lives on the quorum replica set behind the firewall.</p><p>Consensus between replicas is reached with raft; nobody outside should ever read this text.</p></article></body></html>";

/// A tiny HTTP/1.1 server on loopback: answers every request with `respond(path)` and
/// records the paths it was asked for.
struct Server {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
}

type Respond = dyn Fn(&str) -> Vec<u8> + Send + Sync;

impl Server {
    fn start(respond: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static) -> Server {
        Server::on(
            TcpListener::bind("127.0.0.1:0").unwrap(),
            Arc::new(respond),
            None,
        )
    }

    fn on(
        listener: TcpListener,
        respond: Arc<Respond>,
        shared: Option<Arc<Mutex<Vec<String>>>>,
    ) -> Server {
        let addr = listener.local_addr().unwrap();
        let requests = shared.unwrap_or_default();
        let log = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).to_string();
                let path = head.split(' ').nth(1).unwrap_or("").to_string();
                log.lock().unwrap().push(path.clone());
                let _ = stream.write_all(&respond(&path));
            }
        });
        Server { addr, requests }
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// The secret server on 127.0.0.1, and on [::1] with the same port when this host has IPv6
/// loopback (both record into one list).
fn secret_server() -> Server {
    let respond: Arc<Respond> = Arc::new(|_: &str| {
        response(
            200,
            &[("Content-Type", "text/html; charset=utf-8")],
            SECRET_PAGE.as_bytes(),
        )
    });
    let v4 = Server::on(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        Arc::clone(&respond),
        None,
    );
    if let Ok(v6) = TcpListener::bind(("::1", v4.port())) {
        Server::on(v6, respond, Some(Arc::clone(&v4.requests)));
    }
    v4
}

/// Hosts spelling the loopback server's address.
const LOOPBACK_SPELLINGS: [&str; 7] = [
    "127.0.0.1",
    "localhost",
    "127.1",
    "2130706433",
    "0.0.0.0",
    "[::1]",
    "[::ffff:127.0.0.1]",
];

/// A Hacker News listing with one link post per spelling, all to the secret server.
fn listing(secret_port: u16) -> Vec<u8> {
    let hits: Vec<String> = LOOPBACK_SPELLINGS
        .iter()
        .enumerate()
        .map(|(i, host)| {
            format!(
                r#"{{"objectID":"{id}","title":"Raft consensus notes {id}","url":"http://{host}:{secret_port}/admin/{id}","points":{points},"num_comments":3,"created_at_i":1795000000,"author":"someone","story_text":null}}"#,
                id = i + 1,
                points = 100 + i,
            )
        })
        .collect();
    format!(r#"{{"hits":[{}],"nbHits":{}}}"#, hits.join(","), hits.len()).into_bytes()
}

/// `feedsift fetch --once`, which must succeed: its stdout and log (stderr) together.
fn fetch_text(ws: &Workspace) -> String {
    let out = ws.run(&["fetch", "--once"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

fn articles_config(listing_url: &str, allow: Option<bool>) -> String {
    let defaults = match allow {
        Some(on) => format!("[defaults]\nallow_private_networks = {on}\n\n"),
        None => String::new(),
    };
    format!(
        r#"{defaults}[[source]]
id = "hn"
kind = "hackernews"
url = "{listing_url}"

[[topic]]
slug = "ds"
title = "Distributed Systems"
window = "3650d"
[topic.keywords]
"raft" = 1
"#
    )
}

/// The operator's Hacker News source: serves `listing` for the secret server's port.
fn listing_server(secret: &Server) -> Server {
    let body = listing(secret.port());
    Server::start(move |_| response(200, &[("Content-Type", "application/json")], &body))
}

fn stories(store: &Store) -> Vec<Story> {
    store
        .stories_since(chrono::DateTime::<chrono::Utc>::MIN_UTC)
        .unwrap()
}

#[test]
fn article_links_to_loopback_in_any_spelling_are_never_fetched_and_the_refusal_is_final() {
    let secret = secret_server();
    let upstream = listing_server(&secret);
    let ws = Workspace::with_body(&articles_config(
        &format!("http://{}/hn", upstream.addr),
        None,
    ));

    let out = fetch_text(&ws);
    assert!(out.contains("0 summarized, 7 failed"), "{out}");
    // Polled again: refusals are final, nothing is retried.
    let out = fetch_text(&ws);
    assert!(!out.contains("failed (retried later)"), "{out}");
    assert_eq!(
        secret.requests(),
        Vec::<String>::new(),
        "the secret server was reached"
    );
    assert_eq!(
        upstream.requests().len(),
        2,
        "the operator's own source is polled"
    );

    let store = ws.store();
    let stories = stories(&store);
    assert_eq!(stories.len(), LOOPBACK_SPELLINGS.len());
    for story in &stories {
        assert!(
            !story.summary.contains("replica"),
            "{}: {}",
            story.url,
            story.summary
        );
        let state = store
            .article_state(story.id)
            .unwrap()
            .expect("an article state");
        let error = state.last_error.unwrap_or_default();
        assert!(state.done, "{}: a refusal is final", story.url);
        assert_eq!(state.attempts, 1, "{}", story.url);
        assert!(state.next_try.is_none(), "{}", story.url);
        assert!(error.starts_with("refused: "), "{}: {error}", story.url);
        assert!(
            error.ends_with(" (allow_private_networks is off)"),
            "{}: {error}",
            story.url
        );
        let why = if story.url.contains("0.0.0.0") {
            "0.0.0.0 is an unspecified address"
        } else if story.url.contains("localhost") {
            "localhost resolves to"
        } else if story.url.contains("[::1]") {
            "::1 is a loopback address"
        } else if story.url.contains("[::ffff:") {
            "::ffff:127.0.0.1 is a loopback address"
        } else {
            "refused: 127.0.0.1 is a loopback address (allow_private_networks is off)"
        };
        assert!(error.contains(why), "{}: {error} lacks {why}", story.url);
    }
}

#[test]
fn with_allow_private_networks_the_same_articles_are_fetched_and_summarized() {
    let secret = secret_server();
    let upstream = listing_server(&secret);
    let ws = Workspace::with_body(&articles_config(
        &format!("http://{}/hn", upstream.addr),
        Some(true),
    ));
    let check = ws.run(&["check"]);
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success());
    assert!(stdout.contains("allow_private_networks is on"), "{stdout}");

    let out = fetch_text(&ws);
    assert!(
        out.contains("allow_private_networks is on"),
        "the warning is logged: {out}"
    );
    // [::1] only connects where this host has IPv6 loopback.
    let v6 = TcpListener::bind("[::1]:0").is_ok();
    let expected = if v6 { 7 } else { 6 };
    assert!(out.contains(&format!("{expected} summarized")), "{out}");
    assert_eq!(secret.requests().len(), expected, "{:?}", secret.requests());
    let store = ws.store();
    let summarized = stories(&store)
        .into_iter()
        .filter(|s| s.summary.contains("replica"))
        .count();
    assert_eq!(summarized, expected);
}

fn feed(title: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>F</title><link>https://blog.example/</link><description>d</description><item><title>{title}</title><link>https://blog.example/{title}</link><description>Raft notes.</description><pubDate>Mon, 01 Jan 2029 00:00:00 GMT</pubDate></item></channel></rss>"#
    )
    .into_bytes()
}

fn redirect_config(redirector: &Server, allow: bool) -> String {
    let mut text = format!("[defaults]\nallow_private_networks = {allow}\n\n");
    for (id, path) in [
        ("by-address", "/to-address"),
        ("by-name", "/to-name"),
        ("mapped", "/to-mapped"),
    ] {
        text.push_str(&format!(
            "[[source]]\nid = \"{id}\"\nkind = \"feed\"\nurl = \"http://{}{path}\"\n\n",
            redirector.addr
        ));
    }
    text + "[[topic]]\nslug = \"t\"\ntitle = \"T\"\nsummaries = \"feed\"\n"
}

/// A loopback server with a feed, and a server whose paths redirect to it by address, by
/// name and by IPv4-mapped address.
fn secret_feed_behind_a_redirector() -> (Server, Server) {
    let secret = Server::start(|_| {
        response(
            200,
            &[("Content-Type", "application/rss+xml")],
            &feed("secret"),
        )
    });
    let redirector = redirector_to(&secret);
    (secret, redirector)
}

fn redirector_to(secret: &Server) -> Server {
    let port = secret.port();
    Server::start(move |path| {
        let location = match path {
            "/to-address" => format!("http://127.0.0.1:{port}/feed.rss"),
            "/to-name" => format!("http://localhost:{port}/feed.rss"),
            _ => format!("http://[::ffff:127.0.0.1]:{port}/feed.rss"),
        };
        redirect(302, &location)
    })
}

/// The redirecting server must itself be on loopback, so it is an operator source (whose
/// first hop may go anywhere); the hop it redirects to is what is checked.
#[test]
fn an_operator_source_redirecting_to_loopback_is_refused_at_the_redirect() {
    let (secret, redirector) = secret_feed_behind_a_redirector();
    let ws = Workspace::with_body(&redirect_config(&redirector, false));
    let out = fetch_text(&ws);
    assert_eq!(secret.requests(), Vec::<String>::new(), "{out}");
    assert_eq!(redirector.requests().len(), 3);
    let store = ws.store();
    for (id, why) in [
        ("by-address", "refused: redirect to http://127.0.0.1:"),
        ("by-name", "localhost resolves to"),
        ("mapped", "::ffff:127.0.0.1 is a loopback address"),
    ] {
        let error = store
            .source_state(id)
            .unwrap()
            .unwrap()
            .last_error
            .unwrap_or_default();
        assert!(error.contains(why), "{id}: {error}");
        assert!(
            error.contains("(allow_private_networks is off)"),
            "{id}: {error}"
        );
    }
    assert!(stories(&store).is_empty());
}

#[test]
fn with_allow_private_networks_the_redirect_is_followed() {
    let (secret, redirector) = secret_feed_behind_a_redirector();
    let ws = Workspace::with_body(&redirect_config(&redirector, true));
    let out = fetch_text(&ws);
    assert_eq!(secret.requests().len(), 3, "{out}");
    assert_eq!(stories(&ws.store()).len(), 1, "{out}");
}

#[test]
fn check_does_not_mention_the_guard_when_it_is_off() {
    let ws = Workspace::with_body("");
    let out = ws.run(&["check"]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("allow_private_networks"));
}
