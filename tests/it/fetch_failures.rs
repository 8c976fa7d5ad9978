//! Misbehaving upstreams, end to end through the library: each way a source can fail
//! (error statuses, Retry-After, hangs, drips, resets, oversized bodies, gzip bombs, redirect
//! loops, empty or HTML answers) is recorded in that source's state and touches neither the
//! other sources nor any stored story; the oddities feedsift recovers from (charsets,
//! almost-XML, moves, conditional GET) still store stories. The upstream is a raw TCP server
//! scripted byte by byte (`support::bad_upstream`).

use crate::support::bad_upstream::{head, redirect, response, Act, BadUpstream};
use crate::support::lib_api::{
    fetch_once, Config, FetchEvent, HostLimits, Ingester, PollOutcome, PollReport, SourceState,
    Store, Story,
};
use crate::support::{config, feed};
use chrono::{DateTime, Utc};
use std::io::Write;
use std::time::Duration;

const RSS: (&str, &str) = ("Content-Type", "application/rss+xml");

/// Sources `good` (/good.rss, a valid feed), `bad` (/bad) and `alt` (/alt) on one scripted
/// upstream; a store in a temp dir; the real ingester.
struct Bench {
    up: BadUpstream,
    config: Config,
    store: Store,
    ingester: Ingester,
    _dir: tempfile::TempDir,
}

/// What a misbehaving source must leave alone.
struct Snapshot {
    stories: Vec<Story>,
    good: SourceState,
}

impl Bench {
    /// Polls every 10 minutes, times out after 1 s; the good source serves
    /// fixtures/feeds/dist-blog.rss.
    async fn new() -> Bench {
        Bench::serving(None, fixture("dist-blog.rss")).await
    }

    /// As `new`, with `[defaults] max_body` if given, and the good source serving `good_feed`.
    async fn serving(max_body: Option<&str>, good_feed: Vec<u8>) -> Bench {
        let up = BadUpstream::start().await;
        up.on("/good.rss", Act::Send(response(200, &[RSS], &good_feed)));
        let dir = tempfile::tempdir().unwrap();
        let mut toml = config()
            .server("data_dir", "data")
            .poll("10m")
            .timeout("1s")
            .default_key("allow_private_networks", true)
            .source(feed("good", up.url("/good.rss")))
            .source(feed("bad", up.url("/bad")))
            .source(feed("alt", up.url("/alt")));
        if let Some(size) = max_body {
            toml = toml.max_body(size);
        }
        let config = Config::parse(&dir.path().join("feeds.toml"), &toml.to_toml())
            .unwrap_or_else(|e| panic!("test config is invalid: {e}"));
        let store = Store::open(&dir.path().join("data")).unwrap();
        let ingester = Ingester::new(&config, store.clone(), HostLimits::default()).unwrap();
        Bench {
            up,
            config,
            store,
            ingester,
            _dir: dir,
        }
    }

    async fn poll(&self, id: &str) -> PollReport {
        self.ingester
            .poll(self.config.sources.iter().find(|s| s.id == id).unwrap())
            .await
    }

    /// Polls `id` and asserts that the poll stored what it fetched.
    async fn poll_stored(&self, id: &str) -> PollReport {
        let report = self.poll(id).await;
        assert!(
            matches!(report.outcome, PollOutcome::Stored { .. }),
            "{report}"
        );
        report
    }

    /// Serves a small RSS feed at `path`: one post per title, on `host`.
    fn serve_feed(&self, path: &str, host: &str, titles: &[&str]) {
        self.up.on(
            path,
            Act::Send(response(200, &[RSS], &small_feed(host, titles))),
        );
    }

    fn state(&self, id: &str) -> SourceState {
        self.store
            .source_state(id)
            .unwrap()
            .unwrap_or_else(|| panic!("no state recorded for {id}"))
    }

    fn stories(&self) -> Vec<Story> {
        self.store.stories_since(DateTime::UNIX_EPOCH).unwrap()
    }

    fn story_at(&self, url: &str) -> Story {
        let stories = self.stories();
        stories
            .iter()
            .find(|s| s.url == url)
            .cloned()
            .unwrap_or_else(|| panic!("no story at {url}; stored: {:#?}", urls(&stories)))
    }

    /// Polls the good source, so stories exist before anything misbehaves.
    async fn baseline(&self) -> Snapshot {
        let report = self.poll("good").await;
        assert!(
            matches!(&report.outcome, PollOutcome::Stored { report, .. } if report.new >= 2),
            "the good source must store stories: {report}"
        );
        let stories = self.stories();
        assert!(stories.len() >= 2, "{stories:#?}");
        Snapshot {
            stories,
            good: self.state("good"),
        }
    }

    /// The good source's state and every stored story are exactly as before.
    fn assert_untouched(&self, before: &Snapshot) {
        assert_eq!(
            self.state("good"),
            before.good,
            "the good source's state changed"
        );
        assert_eq!(self.stories(), before.stories, "stored stories changed");
    }

    /// As `assert_untouched`, but stories may have been added: returns the added ones.
    fn assert_kept(&self, before: &Snapshot) -> Vec<Story> {
        assert_eq!(
            self.state("good"),
            before.good,
            "the good source's state changed"
        );
        let now = self.stories();
        for old in &before.stories {
            assert!(now.contains(old), "story changed or lost: {old:#?}");
        }
        now.into_iter()
            .filter(|s| !before.stories.contains(s))
            .collect()
    }

    /// `id` failed for the first time, and its state says so in full. Returns the error.
    fn assert_first_failure(
        &self,
        id: &str,
        report: &PollReport,
        status: Option<u16>,
        starts: &str,
    ) -> String {
        let PollOutcome::Failed(error) = &report.outcome else {
            panic!("expected {id} to fail, got: {report}");
        };
        assert!(
            error.starts_with(starts),
            "error {error:?} should start with {starts:?}"
        );
        assert_eq!(report.status, status, "{report}");
        let state = self.state(id);
        assert_eq!(state.last_status, status, "{state:#?}");
        assert_eq!(state.last_error.as_deref(), Some(error.as_str()));
        assert_eq!(state.consecutive_failures, 1, "{state:#?}");
        assert_eq!(state.last_success, None, "{state:#?}");
        assert_next_poll(&state, report);
        // Backed off (a minute, within jitter) rather than retried at once.
        assert!(report.next_in >= Duration::from_secs(50), "{report:?}");
        error.clone()
    }
}

/// `next_poll` is the attempt time plus the delay the report gave.
fn assert_next_poll(state: &SourceState, report: &PollReport) {
    let attempt = state.last_attempt.expect("last_attempt is recorded");
    let delay = chrono::Duration::from_std(report.next_in).unwrap();
    assert_eq!(state.next_poll, Some(attempt + delay), "{state:#?}");
}

fn fixture(name: &str) -> Vec<u8> {
    crate::support::fixture(&format!("feeds/{name}"))
}

/// A small valid RSS 2.0 feed: one item per title, linked at https://{host}/post-{i}.
fn small_feed(host: &str, titles: &[&str]) -> Vec<u8> {
    let items: String = titles
        .iter()
        .enumerate()
        .map(|(i, title)| {
            format!(
                "<item><title>{title}</title><link>https://{host}/post-{i}</link>\
                 <pubDate>Mon, 02 Nov 2026 1{i}:00:00 +0000</pubDate></item>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>{host}</title><link>https://{host}/</link><description>d</description>\
         {items}</channel></rss>"
    )
    .into_bytes()
}

fn urls(stories: &[Story]) -> Vec<&str> {
    stories.iter().map(|s| s.url.as_str()).collect()
}

/// Values of header `name` in a raw request head, byte for byte after `name: `.
fn header_values<'a>(request: &'a str, name: &str) -> Vec<&'a str> {
    request
        .split("\r\n")
        .skip(1)
        .filter_map(|line| line.split_once(": "))
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .collect()
}

// ---------------------------------------------------------------- error statuses

async fn error_status_is_recorded(status: u16) {
    let b = Bench::new().await;
    let before = b.baseline().await;
    b.up.on("/bad", Act::Send(response(status, &[], b"nope")));
    let report = b.poll("bad").await;
    let error = b.assert_first_failure("bad", &report, Some(status), &format!("HTTP {status}"));
    assert!(!error.contains("retry after"), "{error}");
    b.assert_untouched(&before);
}

#[tokio::test]
async fn http_500_is_recorded_and_nothing_else_changes() {
    error_status_is_recorded(500).await;
}

#[tokio::test]
async fn http_404_is_recorded_and_nothing_else_changes() {
    error_status_is_recorded(404).await;
}

#[tokio::test]
async fn http_410_is_recorded_and_nothing_else_changes() {
    error_status_is_recorded(410).await;
}

#[tokio::test]
async fn http_429_with_retry_after_seconds_waits_that_long() {
    let b = Bench::new().await;
    let before = b.baseline().await;
    b.up.on(
        "/bad",
        Act::Send(response(429, &[("Retry-After", "120")], b"slow down")),
    );
    let report = b.poll("bad").await;
    let error = b.assert_first_failure("bad", &report, Some(429), "HTTP 429");
    assert_eq!(error, "HTTP 429, retry after 120 s");
    assert!(report.next_in >= Duration::from_secs(120), "{report:?}");
    let state = b.state("bad");
    let ahead = state.next_poll.unwrap() - Utc::now();
    assert!(ahead >= chrono::Duration::seconds(118), "{ahead}");
    b.assert_untouched(&before);
    // Retry-After is for that source only: the good one still polls on its own schedule.
    assert!(b.poll("good").await.next_in <= Duration::from_secs(660));
}

#[tokio::test]
async fn http_503_with_retry_after_date_waits_until_then() {
    let b = Bench::new().await;
    let before = b.baseline().await;
    let at = std::time::SystemTime::now() + Duration::from_secs(300);
    let date = httpdate::fmt_http_date(at);
    b.up.on(
        "/bad",
        Act::Send(response(503, &[("Retry-After", &date)], b"maintenance")),
    );
    let report = b.poll("bad").await;
    let error = b.assert_first_failure("bad", &report, Some(503), "HTTP 503, retry after ");
    assert!(
        report.next_in >= Duration::from_secs(295) && report.next_in <= Duration::from_secs(301),
        "{report:?}"
    );
    let state = b.state("bad");
    let ahead = state.next_poll.unwrap() - Utc::now();
    assert!(ahead >= chrono::Duration::seconds(290), "{ahead} ({error})");
    b.assert_untouched(&before);
}

// ---------------------------------------------------------------- slow and broken transfers

#[tokio::test]
async fn a_server_that_never_answers_fails_within_the_timeout() {
    let b = Bench::new().await;
    let before = b.baseline().await;
    b.up.on("/bad", Act::Hang);
    let report = b.poll("bad").await;
    b.assert_first_failure("bad", &report, None, "timed out after 1s");
    assert!(
        report.duration >= Duration::from_millis(900)
            && report.duration < Duration::from_millis(2500),
        "{report:?}"
    );
    assert_eq!(b.up.requests("/bad").len(), 1, "the request did arrive");
    b.assert_untouched(&before);
}

#[tokio::test]
async fn a_hanging_source_does_not_hold_up_the_others() {
    let b = Bench::new().await;
    let before = b.baseline().await;
    b.up.on("/bad", Act::Hang);
    b.up.on("/alt", Act::Send(response(500, &[], b"")));
    let mut done = Vec::new();
    let reports = fetch_once(&b.config, &b.ingester, |event| {
        if let FetchEvent::Finished(r) = event {
            done.push((r.source_id.clone(), r.duration));
        }
    })
    .await;
    assert_eq!(reports.len(), 3);
    // The others finish long before the hanging one gives up, and it gives up on time.
    assert_eq!(done[2].0, "bad", "{done:?}");
    for (id, took) in &done[..2] {
        assert!(*took < Duration::from_millis(500), "{id} took {took:?}");
    }
    assert!(done[2].1 < Duration::from_millis(2500), "{done:?}");
    let good = reports.iter().find(|r| r.source_id == "good").unwrap();
    assert!(matches!(good.outcome, PollOutcome::Stored { .. }), "{good}");
    assert_eq!(b.state("good").consecutive_failures, 0);
    assert_eq!(
        b.state("bad").last_error.as_deref(),
        Some("timed out after 1s")
    );
    assert_eq!(b.state("alt").last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(b.stories(), before.stories, "stored stories changed");
}

#[tokio::test]
async fn a_slow_drip_is_cut_off_by_the_total_timeout() {
    let b = Bench::new().await;
    let before = b.baseline().await;
    let body = small_feed("drip.example", &["Drip"]);
    let length = body.len().to_string();
    b.up.on(
        "/bad",
        Act::Drip {
            head: head(200, &[RSS, ("Content-Length", &length)]),
            body,
            // Each byte comes well within the read timeout; the whole never within the total.
            every: Duration::from_millis(300),
        },
    );
    let report = b.poll("bad").await;
    b.assert_first_failure("bad", &report, None, "timed out after 1s");
    assert!(report.duration < Duration::from_millis(2500), "{report:?}");
    b.assert_untouched(&before);
}

#[tokio::test]
async fn a_reset_mid_body_fails_as_a_cut_off_body() {
    let b = Bench::new().await;
    let before = b.baseline().await;
    let mut bytes = head(200, &[RSS, ("Content-Length", "10000")]);
    bytes.extend_from_slice(&fixture("dist-blog.rss")[..100]);
    b.up.on("/bad", Act::Reset(bytes));
    let report = b.poll("bad").await;
    let error = b.assert_first_failure("bad", &report, None, "body cut off: ");
    assert!(error.to_lowercase().contains("reset"), "{error}");
    assert!(
        !error.contains("decoding"),
        "nothing was being decoded: {error}"
    );
    b.assert_untouched(&before);
}

#[tokio::test]
async fn a_close_before_the_promised_length_fails_as_a_cut_off_body() {
    let b = Bench::new().await;
    let before = b.baseline().await;
    let mut bytes = head(200, &[RSS, ("Content-Length", "10000")]);
    bytes.extend_from_slice(&fixture("dist-blog.rss")[..100]);
    b.up.on("/bad", Act::Send(bytes));
    let report = b.poll("bad").await;
    let error = b.assert_first_failure("bad", &report, None, "body cut off: ");
    assert!(error.contains("end of file"), "{error}");
    assert!(
        !error.contains("decoding"),
        "nothing was being decoded: {error}"
    );
    b.assert_untouched(&before);
}

const CAP_ERROR: &str = "body larger than the 1024-byte cap (max_body)";

#[tokio::test]
async fn an_oversized_body_is_refused_at_the_cap() {
    let small = small_feed("good.example", &["One", "Two"]);
    assert!(small.len() < 1024);
    let b = Bench::serving(Some("1KiB"), small).await;
    let before = b.baseline().await;
    let big = small_feed("big.example", &["Big post"; 40]);
    assert!(big.len() > 5 * 1024);
    b.up.on("/bad", Act::Send(response(200, &[RSS], &big)));
    let report = b.poll("bad").await;
    let error = b.assert_first_failure("bad", &report, None, "body larger than");
    assert_eq!(error, CAP_ERROR);
    b.assert_untouched(&before);
}

#[tokio::test]
async fn an_oversized_body_without_a_length_is_cut_at_the_cap() {
    let small = small_feed("good.example", &["One", "Two"]);
    let b = Bench::serving(Some("1KiB"), small).await;
    let before = b.baseline().await;
    // No Content-Length: the body runs until the server closes, and the count must stop it.
    let mut bytes = head(200, &[RSS]);
    bytes.extend_from_slice(&small_feed("big.example", &["Big post"; 40]));
    b.up.on("/bad", Act::Send(bytes));
    let report = b.poll("bad").await;
    let error = b.assert_first_failure("bad", &report, None, "body larger than");
    assert_eq!(error, CAP_ERROR);
    b.assert_untouched(&before);
}

#[tokio::test]
async fn a_gzip_bomb_stops_at_the_cap_without_reading_it_all() {
    let small = small_feed("good.example", &["One", "Two"]);
    let b = Bench::serving(Some("1KiB"), small).await;
    let before = b.baseline().await;
    let inflated = 4 * 1024 * 1024;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b' '; inflated]).unwrap();
    let bomb = gz.finish().unwrap();
    assert!(
        bomb.len() < 8 * 1024 && inflated / bomb.len() > 500,
        "{}",
        bomb.len()
    );
    // Only half the compressed bytes are sent, then the server goes silent: a client that
    // inflated everything before checking would wait for the rest and time out instead.
    let length = bomb.len().to_string();
    let mut bytes = head(
        200,
        &[
            RSS,
            ("Content-Encoding", "gzip"),
            ("Content-Length", &length),
        ],
    );
    bytes.extend_from_slice(&bomb[..bomb.len() / 2]);
    b.up.on("/bad", Act::SendThenHang(bytes));
    let report = b.poll("bad").await;
    let error = b.assert_first_failure("bad", &report, None, "body larger than");
    assert_eq!(error, CAP_ERROR);
    assert!(report.duration < Duration::from_millis(500), "{report:?}");
    b.assert_untouched(&before);
}

#[tokio::test]
async fn a_corrupt_gzip_body_cannot_be_decoded() {
    let b = Bench::new().await;
    let before = b.baseline().await;
    b.up.on(
        "/bad",
        Act::Send(response(
            200,
            &[RSS, ("Content-Encoding", "gzip")],
            b"<rss>not gzip at all</rss>",
        )),
    );
    let report = b.poll("bad").await;
    let error = b.assert_first_failure("bad", &report, None, "cannot decode body: ");
    assert!(error.to_lowercase().contains("gzip"), "{error}");
    b.assert_untouched(&before);
}

// ---------------------------------------------------------------- redirects

#[tokio::test]
async fn a_redirect_loop_is_refused() {
    let b = Bench::new().await;
    let before = b.baseline().await;
    b.up.on("/bad", Act::Send(redirect(302, "/b")));
    b.up.on("/b", Act::Send(redirect(302, "/bad")));
    let report = b.poll("bad").await;
    let error = b.assert_first_failure(
        "bad",
        &report,
        None,
        "redirect refused: more than 10 redirects",
    );
    assert!(error.contains(&b.up.url("/")), "{error}");
    // The first request and ten redirects followed, then it stopped.
    let requests = b.up.requests("/bad").len() + b.up.requests("/b").len();
    assert_eq!(requests, 11);
    b.assert_untouched(&before);
}

/// Scripts `/{prefix}` -> `/{prefix}1` -> ... -> `/{prefix}{hops}`, which serves a feed.
fn redirect_chain(up: &BadUpstream, prefix: &str, hops: usize, feed: Vec<u8>) {
    for i in 0..hops {
        let from = if i == 0 {
            format!("/{prefix}")
        } else {
            format!("/{prefix}{i}")
        };
        up.on(
            &from,
            Act::Send(redirect(301, &format!("/{prefix}{}", i + 1))),
        );
    }
    up.on(
        &format!("/{prefix}{hops}"),
        Act::Send(response(200, &[RSS], &feed)),
    );
}

#[tokio::test]
async fn a_chain_of_eleven_redirects_is_refused_and_ten_are_followed() {
    let b = Bench::new().await;
    let before = b.baseline().await;
    redirect_chain(&b.up, "bad", 11, small_feed("eleven.example", &["Eleven"]));
    let report = b.poll("bad").await;
    let error = b.assert_first_failure(
        "bad",
        &report,
        None,
        "redirect refused: more than 10 redirects",
    );
    assert!(error.contains("/bad11"), "{error}");
    assert!(
        b.up.requests("/bad11").is_empty(),
        "the 11th hop was followed"
    );
    b.assert_untouched(&before);

    redirect_chain(&b.up, "alt", 10, small_feed("ten.example", &["Ten"]));
    b.poll_stored("alt").await;
    let added = b.assert_kept(&before);
    assert_eq!(urls(&added), ["https://ten.example/post-0"]);
    assert_eq!(
        b.state("alt").moved_to.as_deref(),
        Some(b.up.url("/alt10").as_str())
    );
}

#[tokio::test]
async fn a_301_records_the_new_address_and_a_302_does_not() {
    let b = Bench::new().await;
    let before = b.baseline().await;
    b.up.on("/bad", Act::Send(redirect(301, "/new.rss")));
    b.serve_feed("/new.rss", "moved.example", &["Moved"]);
    b.poll_stored("bad").await;
    let state = b.state("bad");
    assert_eq!(
        state.moved_to.as_deref(),
        Some(b.up.url("/new.rss").as_str())
    );
    assert_eq!(state.last_status, Some(200));
    assert_eq!((state.last_error, state.consecutive_failures), (None, 0));
    assert!(state.last_success.is_some());
    assert_eq!(b.story_at("https://moved.example/post-0").title, "Moved");

    // A temporary redirect is no move; nor is a permanent one followed by a temporary one.
    b.up.on("/alt", Act::Send(redirect(302, "/elsewhere.rss")));
    b.serve_feed("/elsewhere.rss", "temp.example", &["Temp"]);
    b.poll_stored("alt").await;
    assert_eq!(b.state("alt").moved_to, None);
    b.up.on("/alt", Act::Send(redirect(301, "/hop")));
    b.up.on("/hop", Act::Send(redirect(302, "/elsewhere.rss")));
    let report = b.poll("alt").await;
    assert!(matches!(
        report.outcome,
        PollOutcome::NotModified | PollOutcome::Stored { .. }
    ));
    assert_eq!(b.state("alt").moved_to, None);

    let added = b.assert_kept(&before);
    assert_eq!(added.len(), 2, "{:?}", urls(&added));
}

#[tokio::test]
async fn a_redirect_to_a_raw_utf8_location_is_followed() {
    let b = Bench::new().await;
    let before = b.baseline().await;
    // Not ASCII, as HTTP wants, but common: the client percent-encodes it.
    b.up.on("/bad", Act::Send(redirect(302, "/caf\u{e9}.rss")));
    b.serve_feed("/caf%C3%A9.rss", "utf8.example", &["Café"]);
    b.poll_stored("bad").await;
    assert_eq!(b.state("bad").moved_to, None);
    let added = b.assert_kept(&before);
    assert_eq!(urls(&added), ["https://utf8.example/post-0"]);
}

// ---------------------------------------------------------------- bodies that are not feeds

#[tokio::test]
async fn an_empty_200_is_not_a_feed() {
    let b = Bench::new().await;
    let before = b.baseline().await;
    b.up.on("/bad", Act::Send(response(200, &[RSS], b"")));
    let report = b.poll("bad").await;
    let error = b.assert_first_failure("bad", &report, Some(200), "not a feed");
    assert_eq!(error, "not a feed: empty body");
    b.assert_untouched(&before);
}

#[tokio::test]
async fn an_html_page_is_not_a_feed() {
    let b = Bench::new().await;
    let before = b.baseline().await;
    let page = b"<!DOCTYPE html>\n<html><head><title>Example Blog</title></head>\
                 <body><h1>Welcome</h1><p>Subscribe to our feed!</p></body></html>";
    b.up.on(
        "/bad",
        Act::Send(response(200, &[("Content-Type", "text/html")], page)),
    );
    let report = b.poll("bad").await;
    let error = b.assert_first_failure("bad", &report, Some(200), "not a feed");
    assert_eq!(
        error,
        "not a feed: got an HTML page (is the URL the feed's own address?)"
    );
    // Pages often open with a prolog, a comment or an XHTML doctype first.
    let xhtml = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- generated by a CMS -->\n\
                  <!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"x.dtd\">\n\
                  <html xmlns=\"http://www.w3.org/1999/xhtml\"><body>hi</body></html>";
    b.up.on(
        "/alt",
        Act::Send(response(200, &[("Content-Type", "text/html")], xhtml)),
    );
    let report = b.poll("alt").await;
    let alt_error = b.assert_first_failure("alt", &report, Some(200), "not a feed");
    assert_eq!(alt_error, error);
    b.assert_untouched(&before);
}

// ---------------------------------------------------------------- recoveries

/// Serves `body` at /bad, polls it, and returns the title of the story at `url`.
async fn stored_title(body: &[u8], content_type: &str, url: &str) -> String {
    let b = Bench::new().await;
    let before = b.baseline().await;
    b.up.on(
        "/bad",
        Act::Send(response(200, &[("Content-Type", content_type)], body)),
    );
    b.poll_stored("bad").await;
    let state = b.state("bad");
    assert_eq!((state.last_error, state.consecutive_failures), (None, 0));
    let added = b.assert_kept(&before);
    assert_eq!(urls(&added), [url]);
    b.story_at(url).title
}

#[tokio::test]
async fn invalid_utf8_without_a_declaration_is_read_as_windows_1252() {
    let body =
        b"<rss version=\"2.0\"><channel><title>Caf\xe9</title><link>https://cp.example/</link>\
        <description>d</description><item><title>Caf\xe9 \x93cr\xe8me\x94 \x96 br\xfbl\xe9e</title>\
        <link>https://cp.example/post</link></item></channel></rss>";
    let title = stored_title(body, "application/rss+xml", "https://cp.example/post").await;
    assert_eq!(title, "Café \u{201c}crème\u{201d} \u{2013} brûlée");
}

#[tokio::test]
async fn latin1_declared_only_in_the_prolog_is_decoded() {
    let body = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<rss version=\"2.0\"><channel>\
        <title>L</title><link>https://latin.example/</link><description>d</description>\
        <item><title>Caf\xe9 na\xefve d\xe9j\xe0 vu</title><link>https://latin.example/post</link>\
        </item></channel></rss>";
    let title = stored_title(body, "application/xml", "https://latin.example/post").await;
    assert_eq!(title, "Café naïve déjà vu");
}

#[tokio::test]
async fn windows_1252_declared_only_in_content_type_is_decoded() {
    let body = b"<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>\
        <title>W</title><link>https://win.example/</link><description>d</description>\
        <item><title>\x93Smart\x94 quotes, \x91single\x92 ones\x85 and \x80 5</title>\
        <link>https://win.example/post</link></item></channel></rss>";
    let title = stored_title(
        body,
        "application/rss+xml; charset=windows-1252",
        "https://win.example/post",
    )
    .await;
    assert_eq!(
        title,
        "\u{201c}Smart\u{201d} quotes, \u{2018}single\u{2019} ones\u{2026} and \u{20ac} 5"
    );
}

#[tokio::test]
async fn a_wrong_or_unknown_header_charset_leaves_the_prolog_to_decide() {
    let body = b"<?xml version=\"1.0\" encoding=\"ISO-8859-2\"?>\n<rss version=\"2.0\"><channel>\
        <title>P</title><link>https://pl.example/</link><description>d</description>\
        <item><title>Za\xbf\xf3\xb3\xe6 g\xea\xb6l\xb1 ja\xbc\xf1</title>\
        <link>https://pl.example/post</link></item></channel></rss>";
    for content_type in [
        "application/rss+xml; charset=utf-8",
        "application/rss+xml; charset=none",
    ] {
        let title = stored_title(body, content_type, "https://pl.example/post").await;
        assert_eq!(title, "Zażółć gęślą jaźń", "{content_type}");
    }
}

#[tokio::test]
async fn a_bare_ampersand_is_repaired() {
    let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
        <title>Q&A</title><link>https://amp.example/</link><description>Tom & Jerry</description>\
        <item><title>Q&A: Tom & Jerry &amp; friends</title>\
        <link>https://repair.example/q?a=1&b=2</link></item></channel></rss>";
    let title = stored_title(
        body,
        "application/rss+xml",
        "https://repair.example/q?a=1&b=2",
    )
    .await;
    assert_eq!(title, "Q&A: Tom & Jerry & friends");
}

#[tokio::test]
async fn an_rss_root_without_version_is_repaired() {
    let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss><channel>\
        <title>No version</title><link>https://nov.example/</link><description>d</description>\
        <item><title>Versionless & fine</title><link>https://nov.example/post</link>\
        <pubDate>Tue, 03 Nov 2026 10:00:00 +0000</pubDate></item></channel></rss>";
    let title = stored_title(body, "application/rss+xml", "https://nov.example/post").await;
    assert_eq!(title, "Versionless & fine");
}

// ---------------------------------------------------------------- conditional GET

const ETAG: &str = "W/\"v1-5f3a\"";
const LAST_MODIFIED: &str = "Wed, 21 Oct 2026 07:28:00 GMT";

#[tokio::test]
async fn validators_are_stored_sent_back_exactly_and_a_304_keeps_them() {
    let b = Bench::new().await;
    let before = b.baseline().await;
    let feed = small_feed("cond.example", &["Conditional"]);
    b.up.then(
        "/bad",
        Act::Send(response(
            200,
            &[RSS, ("ETag", ETAG), ("Last-Modified", LAST_MODIFIED)],
            &feed,
        )),
    );
    b.up.then("/bad", Act::Send(response(304, &[], b"")));

    let first = b.poll("bad").await;
    assert!(
        matches!(first.outcome, PollOutcome::Stored { .. }),
        "{first}"
    );
    let stored = b.state("bad");
    assert_eq!(stored.etag.as_deref(), Some(ETAG));
    assert_eq!(stored.last_modified.as_deref(), Some(LAST_MODIFIED));
    let after_first = b.stories();

    let second = b.poll("bad").await;
    assert!(
        matches!(second.outcome, PollOutcome::NotModified),
        "{second}"
    );
    let requests = b.up.requests("/bad");
    assert_eq!(requests.len(), 2);
    assert!(header_values(&requests[0], "if-none-match").is_empty());
    assert!(header_values(&requests[0], "if-modified-since").is_empty());
    assert_eq!(header_values(&requests[1], "if-none-match"), [ETAG]);
    assert_eq!(
        header_values(&requests[1], "if-modified-since"),
        [LAST_MODIFIED]
    );

    let state = b.state("bad");
    assert_eq!(state.etag.as_deref(), Some(ETAG));
    assert_eq!(state.last_modified.as_deref(), Some(LAST_MODIFIED));
    assert_eq!(state.last_status, Some(304));
    assert_eq!((&state.last_error, state.consecutive_failures), (&None, 0));
    assert!(
        state.last_success > stored.last_success,
        "a 304 is a success"
    );
    assert_next_poll(&state, &second);
    assert!(second.next_in >= Duration::from_secs(9 * 60), "{second:?}");
    assert_eq!(b.stories(), after_first, "a 304 changes no story");
    b.assert_kept(&before);
}

#[tokio::test]
async fn a_new_etag_on_a_304_replaces_the_old_one() {
    let b = Bench::new().await;
    b.baseline().await;
    let feed = small_feed("etag.example", &["Etag"]);
    b.up.then(
        "/bad",
        Act::Send(response(
            200,
            &[RSS, ("ETag", "\"v1\""), ("Last-Modified", LAST_MODIFIED)],
            &feed,
        )),
    );
    b.up.then("/bad", Act::Send(response(304, &[("ETag", "\"v2\"")], b"")));
    assert!(matches!(
        b.poll("bad").await.outcome,
        PollOutcome::Stored { .. }
    ));
    assert!(matches!(
        b.poll("bad").await.outcome,
        PollOutcome::NotModified
    ));
    let state = b.state("bad");
    assert_eq!(state.etag.as_deref(), Some("\"v2\""));
    // The 304 said nothing of Last-Modified: the stored one stays.
    assert_eq!(state.last_modified.as_deref(), Some(LAST_MODIFIED));
    assert!(matches!(
        b.poll("bad").await.outcome,
        PollOutcome::NotModified
    ));
    let requests = b.up.requests("/bad");
    assert_eq!(header_values(&requests[1], "if-none-match"), ["\"v1\""]);
    assert_eq!(header_values(&requests[2], "if-none-match"), ["\"v2\""]);
    assert_eq!(
        header_values(&requests[2], "if-modified-since"),
        [LAST_MODIFIED]
    );
}

#[tokio::test]
async fn a_non_ascii_etag_is_kept_and_sent_back_byte_for_byte() {
    let b = Bench::new().await;
    b.baseline().await;
    let etag = "\"v1-caf\u{e9}\"";
    let feed = small_feed("etag8.example", &["Etag"]);
    b.up.then(
        "/bad",
        Act::Send(response(200, &[RSS, ("ETag", etag)], &feed)),
    );
    b.up.then("/bad", Act::Send(response(304, &[], b"")));
    assert!(matches!(
        b.poll("bad").await.outcome,
        PollOutcome::Stored { .. }
    ));
    assert_eq!(b.state("bad").etag.as_deref(), Some(etag));
    assert!(matches!(
        b.poll("bad").await.outcome,
        PollOutcome::NotModified
    ));
    let requests = b.up.requests("/bad");
    assert_eq!(header_values(&requests[1], "if-none-match"), [etag]);
}

// ---------------------------------------------------------------- a good source gone bad

#[tokio::test]
async fn a_source_that_goes_bad_keeps_its_stories_and_validators() {
    let b = Bench::new().await;
    let before = b.baseline().await;
    let feed = small_feed("flaky.example", &["Flaky one", "Flaky two"]);
    b.up.then(
        "/bad",
        Act::Send(response(200, &[RSS, ("ETag", ETAG)], &feed)),
    );
    assert!(matches!(
        b.poll("bad").await.outcome,
        PollOutcome::Stored { .. }
    ));
    let good_times = b.state("bad");
    let stories = b.stories();
    assert_eq!(b.assert_kept(&before).len(), 2);

    let html = b"<html><body>oops</body></html>".to_vec();
    let failures: [(Act, Option<u16>, &str); 5] = [
        (Act::Send(response(500, &[], b"")), Some(500), "HTTP 500"),
        (
            Act::Send(response(429, &[("Retry-After", "120")], b"")),
            Some(429),
            "HTTP 429, retry after 120 s",
        ),
        (
            Act::Send(response(200, &[RSS], b"")),
            Some(200),
            "not a feed: empty body",
        ),
        (
            Act::Send(response(200, &[("Content-Type", "text/html")], &html)),
            Some(200),
            "not a feed: got an HTML page",
        ),
        (
            Act::Send(b"HTTP/1.1 200 OK\r\nContent-Length: 9999\r\n\r\n<rss".to_vec()),
            None,
            "body cut off",
        ),
    ];
    let mut last_delay = Duration::ZERO;
    for (n, (act, status, starts)) in failures.into_iter().enumerate() {
        b.up.on("/bad", act);
        let report = b.poll("bad").await;
        let PollOutcome::Failed(error) = &report.outcome else {
            panic!("failure {n} was not recorded as one: {report}");
        };
        assert!(
            error.starts_with(starts),
            "{error:?} should start with {starts:?}"
        );
        let state = b.state("bad");
        assert_eq!(state.consecutive_failures, n as u32 + 1, "{state:#?}");
        assert_eq!(state.last_status, status);
        assert_eq!(state.last_error.as_deref(), Some(error.as_str()));
        assert_eq!(
            state.last_success, good_times.last_success,
            "last_success moved"
        );
        assert_eq!(state.etag.as_deref(), Some(ETAG), "validators lost");
        assert_next_poll(&state, &report);
        assert!(report.next_in > last_delay, "no backoff: {report:?}");
        last_delay = report.next_in;
        assert_eq!(
            b.stories(),
            stories,
            "a failing source lost or changed stories"
        );
        // Every attempt still sends the validators of the last good body.
        let sent = b.up.requests("/bad");
        assert_eq!(header_values(sent.last().unwrap(), "if-none-match"), [ETAG]);
    }
    assert_eq!(b.state("good"), before.good);

    // Back to good: one success clears the failure count and error.
    b.up.on("/bad", Act::Send(response(304, &[], b"")));
    let report = b.poll("bad").await;
    assert!(
        matches!(report.outcome, PollOutcome::NotModified),
        "{report}"
    );
    let state = b.state("bad");
    assert_eq!((state.last_error, state.consecutive_failures), (None, 0));
    assert_eq!(b.stories(), stories);
}
