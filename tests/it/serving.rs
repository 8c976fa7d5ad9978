//! Serving by the HTTP book, against a running `feedsift serve` that polled the site
//! fixtures itself: compression, HEAD, caching headers, CORS, query narrowing, the HTML page,
//! embed, index, OPML, metrics, the render cache, and a slowloris client.

use crate::support::{
    assert_well_formed, client, config, get, get_json, rss_titles, topic, Daemon, Upstream,
    Workspace,
};
use reqwest::StatusCode;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// A daemon that polled every source itself (no `fetch` beforehand).
async fn daemon() -> (Upstream, Workspace, Daemon) {
    let up = Upstream::start().await;
    let [hn, reddit, lobsters, devto] =
        up.serve_sites(["/hn", "/reddit", "/lobsters", "/devto"], 1);
    let config = config()
        // A short header timeout keeps the slowloris test quick.
        .server("header_timeout", "1s")
        .poll("10m")
        .source(hn.poll("5m"))
        .sources([reddit, lobsters, devto])
        .topic(
            topic("distributed-systems")
                .title("Distributed Systems")
                .description("Consensus algorithms, CAP theorem, fault tolerance.")
                .min_relevance(2)
                .keywords(&[
                    ("raft", 3),
                    ("paxos", 3),
                    ("consensus", 2),
                    ("CAP theorem", 3),
                    ("fault tolerance", 2),
                    ("replication", 2),
                ])
                .exclude(&["crypto airdrop"]),
        )
        .topic(
            topic("frontend")
                .title("Frontend")
                .sources(&["hn", "devto"])
                .keywords(&[("javascript", 1)]),
        );
    let ws = Workspace::new(&config);
    let d = ws.serve().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let health: serde_json::Value = get_json(&d.url("/healthz")).await;
        if health["sources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["last_success"].is_string())
        {
            break;
        }
        assert!(Instant::now() < deadline, "sources not polled: {health}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (up, ws, d)
}

fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_follow_the_http_contract() {
    let (_up, _ws, d) = daemon().await;
    let http = raw_client();
    let url = d.url("/t/distributed-systems.rss");
    let plain = http.get(&url).send().await.unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    let h = plain.headers().clone();
    assert_eq!(
        h["cache-control"], "public, max-age=300",
        "shortest poll among the topic's sources"
    );
    assert_eq!(h["vary"], "Accept-Encoding");
    assert_eq!(h["access-control-allow-origin"], "*");
    assert!(h.get("content-encoding").is_none());
    let identity = plain.bytes().await.unwrap();
    assert_well_formed(std::str::from_utf8(&identity).unwrap());

    for (accept, coding, decode) in [
        ("gzip", "gzip", gunzip as fn(&[u8]) -> Vec<u8>),
        ("gzip, deflate, br", "br", unbrotli),
    ] {
        let r = http
            .get(&url)
            .header("accept-encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-encoding"], coding);
        assert_eq!(r.headers()["vary"], "Accept-Encoding");
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        assert_ne!(
            etag,
            h["etag"].to_str().unwrap(),
            "each coding has its own strong validator"
        );
        let body = r.bytes().await.unwrap();
        assert!(body.len() * 2 < identity.len(), "{coding} should compress");
        assert_eq!(
            decode(&body),
            identity.to_vec(),
            "{coding} decodes to the same bytes"
        );
        let again = http
            .get(&url)
            .header("accept-encoding", accept)
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()["etag"], etag.as_str());
        assert_eq!(again.headers()["vary"], "Accept-Encoding");
        assert_eq!(again.headers()["cache-control"], "public, max-age=300");
    }

    let head = http.head(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["etag"], h["etag"]);
    assert_eq!(
        head.headers()["content-type"],
        "application/rss+xml; charset=utf-8"
    );
    assert!(head.bytes().await.unwrap().is_empty());

    // If-None-Match takes precedence over If-Modified-Since.
    let lm = h["last-modified"].to_str().unwrap();
    let r = http
        .get(&url)
        .header("if-none-match", "\"other\"")
        .header("if-modified-since", lm)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = http
        .get(&url)
        .header("if-modified-since", lm)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_parameters_narrow_a_topic() {
    let (_up, ws, d) = daemon().await;
    // The topic's RSS narrowed by query `q`.
    let narrowed = |q: &str| {
        let url = d.url(&format!("/t/distributed-systems.rss{q}"));
        async move { get(&url).await }
    };
    let all = rss_titles(&narrowed("").await.text().await.unwrap());
    assert!(all.len() > 8, "{all:?}");

    let two = narrowed("?limit=2").await.text().await.unwrap();
    assert_eq!(rss_titles(&two), all[..2]);
    assert!(two.contains(&format!(
        "<atom:link href=\"{}/t/distributed-systems.rss?limit=2\" rel=\"self\"",
        ws.base()
    )));

    let paxos = rss_titles(&narrowed("?q=paxos").await.text().await.unwrap());
    assert!(
        !paxos.is_empty() && paxos.iter().all(|t| t.to_lowercase().contains("paxos")),
        "{paxos:?}"
    );
    let no_raft = rss_titles(&narrowed("?q=-raft").await.text().await.unwrap());
    assert!(
        no_raft.iter().all(|t| !t.to_lowercase().contains("raft")),
        "{no_raft:?}"
    );
    assert!(no_raft.len() < all.len());
    let phrase = rss_titles(
        &narrowed("?q=%22fault+tolerance%22")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(
        phrase
            .iter()
            .all(|t| t.to_lowercase().contains("fault tolerance")),
        "{phrase:?}"
    );

    let popular = rss_titles(&narrowed("?min_points=400").await.text().await.unwrap());
    assert_eq!(
        popular,
        [
            "Fault tolerance lessons from a 14-hour outage",
            "Raft in Practice: Lessons from Five Years of Consensus"
        ]
    );
    let recent: serde_json::Value =
        get_json(&d.url("/t/distributed-systems.json?sort=recent")).await;
    let dates: Vec<&str> = recent["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["date_published"].as_str().unwrap())
        .collect();
    assert_eq!(dates.len(), all.len());
    assert!(
        dates.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {dates:?}"
    );
    let json: serde_json::Value =
        get_json(&d.url("/t/distributed-systems.json?window=3650d&limit=1")).await;
    assert_eq!(
        json["feed_url"],
        format!(
            "{}/t/distributed-systems.json?window=3650d&limit=1",
            ws.base()
        )
    );
    assert_eq!(json["items"].as_array().unwrap().len(), 1);

    for (query, name) in [
        ("?limit=0", "limit"),
        ("?min_points=lots", "min_points"),
        ("?window=99999d", "window"),
        ("?sort=best", "sort"),
        ("?q=%2A%2A", "q"),
    ] {
        let r = narrowed(query).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{query}");
        let text = r.text().await.unwrap();
        assert!(
            text.starts_with(&format!("bad query parameter `{name}`: ")),
            "{query}: {text}"
        );
    }
    // Unknown parameters (cache busters, tracking) are ignored.
    assert_eq!(
        narrowed("?utm_source=reader&_=123").await.status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_index_opml_embed_and_metrics() {
    let (_up, ws, d) = daemon().await;
    let page = get(&d.url("/t/distributed-systems")).await;
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let page = page.text().await.unwrap();
    assert!(page.contains("<h1>Distributed Systems</h1>"));
    assert!(page.contains("<h2>Page facts</h2>"));
    assert!(page.contains("<dt>Sources</dt><dd>Hacker News, /r/programming, Lobsters, Dev.to</dd>"));
    assert!(page.contains("<dt>Time window</dt><dd>Articles from the last 3650 days</dd>"));
    for kind in [
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
    ] {
        assert!(
            page.contains(&format!("<link rel=\"alternate\" type=\"{kind}\"")),
            "{kind}"
        );
    }
    assert!(page.contains("<a href=\"https://blog.example.org/posts/raft-in-practice\"><strong>Raft in Practice: Lessons from Five Years of Consensus</strong></a>"));
    assert!(page.contains("/r/programming</a> 426 pts (88 comments)"));
    assert!(!page.contains("<script"));

    let index = get(&d.url("/")).await.text().await.unwrap();
    for link in [
        "/t/distributed-systems\"",
        "/t/frontend\"",
        "/t/frontend.atom",
        "/t/distributed-systems.json",
    ] {
        assert!(index.contains(link), "{link}");
    }

    let opml = get(&d.url("/opml")).await;
    assert_eq!(opml.headers()["content-type"], "text/x-opml; charset=utf-8");
    let opml = opml.text().await.unwrap();
    assert_well_formed(&opml);
    assert!(opml.contains(&format!(
        "xmlUrl=\"{}/t/distributed-systems.rss\"",
        ws.base()
    )));
    assert!(opml.contains(&format!("xmlUrl=\"{}/t/frontend.rss\"", ws.base())));

    let embed = get(&d.url("/t/frontend/embed")).await;
    assert_eq!(
        embed.headers()["content-security-policy"],
        "frame-ancestors *"
    );
    assert!(embed.headers().get("x-frame-options").is_none());
    let embed = embed.text().await.unwrap();
    assert!(embed.contains("<base target=\"_blank\">") && !embed.contains("<h1>"));
    assert!(embed.contains("Show HN: Sparkle.js"));

    // Two identical requests: the second is a cache hit, not a render.
    let metrics = |url: String| async move { get(&url).await.text().await.unwrap() };
    let value = |text: &str, series: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or(0)
    };
    let before = metrics(d.url("/metrics")).await;
    get(&d.url("/t/frontend.atom")).await;
    get(&d.url("/t/frontend.atom")).await;
    let after = metrics(d.url("/metrics")).await;
    assert_eq!(
        value(&after, "feedsift_render_cache_total{result=\"miss\"}"),
        value(&before, "feedsift_render_cache_total{result=\"miss\"}") + 1
    );
    assert_eq!(
        value(&after, "feedsift_render_cache_total{result=\"hit\"}"),
        value(&before, "feedsift_render_cache_total{result=\"hit\"}") + 1
    );
    assert!(
        value(
            &after,
            "feedsift_fetches_total{source=\"hn\",outcome=\"stored\"}"
        ) >= 1,
        "{after}"
    );
    assert!(value(&after, "feedsift_stories") > 20, "{after}");
    assert!(
        value(
            &after,
            "feedsift_http_requests_total{route=\"/t/{name}\",status=\"200\"}"
        ) >= 2,
        "{after}"
    );
    assert!(after.contains("feedsift_http_request_duration_seconds_bucket{le=\"+Inf\"}"));

    // Many clients missing the cache at once cause one render, not one each.
    let misses = value(&after, "feedsift_render_cache_total{result=\"miss\"}");
    let burst: Vec<_> = (0..16)
        .map(|_| {
            let url = d.url("/t/distributed-systems.atom?limit=7");
            tokio::spawn(async move { get(&url).await.status() })
        })
        .collect();
    for request in burst {
        assert_eq!(request.await.unwrap(), StatusCode::OK);
    }
    let later = metrics(d.url("/metrics")).await;
    assert_eq!(
        value(&later, "feedsift_render_cache_total{result=\"miss\"}"),
        misses + 1,
        "{later}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_is_dropped_while_others_are_served() {
    let (_up, ws, d) = daemon().await;
    let addr = format!("127.0.0.1:{}", ws.port);
    let slow = std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .write_all(b"GET /t/distributed-systems.rss HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 1024];
        // The server closes the connection (possibly after a 408): read until EOF.
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
        started.elapsed()
    });
    // Meanwhile other clients are served normally.
    for _ in 0..5 {
        let r = get(&d.url("/t/distributed-systems.rss")).await;
        assert_eq!(r.status(), StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let held = slow.join().unwrap();
    assert!(
        held >= Duration::from_millis(800) && held < Duration::from_secs(4),
        "half-sent request held for {held:?}"
    );

    // Oversized request heads are refused.
    let big = "x".repeat(64 * 1024);
    let r = client()
        .get(d.url("/healthz"))
        .header("x-big", big)
        .send()
        .await;
    match r {
        Ok(r) => assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
        Err(e) => assert!(
            e.is_request() || e.is_connect() || e.to_string().contains("closed"),
            "{e}"
        ),
    }
}
