//! The address guard against real local servers: what is refused never sees a request.

use super::*;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A loopback HTTP server answering every request with `response`, counting requests.
struct Server {
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl Server {
    fn start(response: String) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Server { port, hits }
    }

    fn page(body: &str) -> Server {
        Server::start(format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ))
    }

    fn redirecting_to(location: &str) -> Server {
        Server::start(format!(
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ))
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn fetcher(allow_private_networks: bool) -> Fetcher {
    Fetcher::new(FetchSettings {
        user_agent: "feedsift-test".into(),
        timeout: Duration::from_secs(5),
        max_body: 1 << 20,
        allow_private_networks,
    })
    .unwrap()
}

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

#[tokio::test]
async fn content_urls_to_loopback_are_refused_before_connecting() {
    let secret = Server::page("secret");
    let f = fetcher(false);
    for host in [
        "127.0.0.1",
        "localhost",
        "127.1",
        "2130706433",
        "0.0.0.0",
        "[::1]",
        "[::ffff:127.0.0.1]",
    ] {
        let target = url(&format!("http://{host}:{}/page", secret.port));
        match f.get_content(&target).await {
            Err(FetchError::Refused(why)) => {
                assert!(
                    why.contains("a loopback address") || why.contains("unspecified"),
                    "{host}: {why}"
                )
            }
            other => panic!("{host}: {other:?}"),
        }
    }
    assert_eq!(secret.hits(), 0);
    let err = f
        .get_content(&url(&format!("http://localhost:{}/", secret.port)))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("refused: localhost resolves to 127.0.0.1, a loopback address")
            || err
                .to_string()
                .starts_with("refused: localhost resolves to ::1"),
        "{err}"
    );
    assert!(
        err.to_string().ends_with("(allow_private_networks is off)"),
        "{err}"
    );
}

#[tokio::test]
async fn operator_urls_reach_loopback_but_their_redirects_do_not() {
    let secret = Server::page("secret");
    let f = fetcher(false);
    // The first hop of an operator URL goes where the operator pointed it.
    assert!(matches!(
        f.get(
            &url(&format!("http://127.0.0.1:{}/feed", secret.port)),
            None,
            None
        )
        .await,
        Ok(Fetched::Body(_))
    ));
    assert_eq!(secret.hits(), 1);
    // A redirect from there to loopback, by address or by name, is refused.
    for location in [
        format!("http://127.0.0.1:{}/feed", secret.port),
        format!("http://localhost:{}/feed", secret.port),
        format!("http://[::ffff:7f00:1]:{}/feed", secret.port),
    ] {
        let hop = Server::redirecting_to(&location);
        let err = f
            .get(
                &url(&format!("http://127.0.0.1:{}/feed", hop.port)),
                None,
                None,
            )
            .await
            .unwrap_err();
        assert_eq!(hop.hits(), 1);
        match err {
            FetchError::Refused(why) => {
                assert!(why.starts_with("redirect to http://"), "{why}")
            }
            other => panic!("{location}: {other:?}"),
        }
    }
    assert_eq!(secret.hits(), 1, "no redirect reached the secret server");
}

#[tokio::test]
async fn allow_private_networks_lifts_the_guard() {
    let secret = Server::page("<p>secret</p>");
    let f = fetcher(true);
    let Ok(Fetched::Body(body)) = f
        .get_content(&url(&format!("http://localhost:{}/page", secret.port)))
        .await
    else {
        panic!("not fetched");
    };
    assert_eq!(body.bytes, b"<p>secret</p>");
    let hop = Server::redirecting_to(&format!("http://127.0.0.1:{}/page", secret.port));
    assert!(matches!(
        f.get(&url(&format!("http://127.0.0.1:{}/", hop.port)), None, None)
            .await,
        Ok(Fetched::Body(_))
    ));
    assert_eq!(secret.hits(), 2);
}
