//! Crash safety: the real `feedsift` binary is SIGKILLed at varied points of ingest against a
//! local upstream of 40 generated feeds, then restarted. After every kill the store must open;
//! every story acknowledged before a kill (a printed poll line) must still be served, no fetch
//! may be half-applied, and a final fetch must complete for every source.

use crate::support::{config, feed, feedsift, get, topic, ConfigBuilder, Upstream, Workspace};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const FEEDS: usize = 40;
/// Topics split the feeds so no topic's item count reaches the limit of 1000.
const TOPICS: usize = 4;
const FEEDS_PER_TOPIC: usize = FEEDS / TOPICS;
/// Items per feed in one round; each round the window moves on by `SLIDE` items, so every
/// fetch of a new round writes (new stories and new validators) instead of answering 304.
const ITEMS: usize = 30;
const SLIDE: usize = 1;
/// Every this many kills, `serve` checks what is served.
const CHECK_EVERY: usize = 4;

#[derive(Clone, Copy, Debug)]
enum Target {
    Fetch,
    Serve,
}

#[derive(Clone, Copy, Debug)]
enum At {
    /// This long after the spawn.
    Ms(u64),
    /// This long after the given number of acknowledgements have been read: the polls in
    /// flight then are somewhere between fetching and flushing.
    Acks(usize, u64),
}

/// Where each run is killed: before any write (startup, store open), during the first
/// writes, in the middle, near the end. One round per entry; fixed, so failures reproduce.
const PLAN: [(Target, At); 26] = [
    (Target::Serve, At::Acks(3, 0)),
    (Target::Fetch, At::Ms(2)),
    (Target::Fetch, At::Acks(1, 3)),
    (Target::Serve, At::Acks(12, 5)),
    (Target::Fetch, At::Acks(7, 1)),
    (Target::Fetch, At::Ms(10)),
    (Target::Fetch, At::Acks(20, 0)),
    (Target::Fetch, At::Acks(39, 2)),
    (Target::Fetch, At::Ms(25)),
    (Target::Fetch, At::Acks(2, 6)),
    (Target::Fetch, At::Acks(33, 4)),
    (Target::Fetch, At::Ms(60)),
    (Target::Fetch, At::Acks(13, 8)),
    (Target::Fetch, At::Acks(38, 0)),
    (Target::Fetch, At::Ms(5)),
    (Target::Fetch, At::Acks(26, 7)),
    (Target::Fetch, At::Ms(90)),
    (Target::Fetch, At::Acks(5, 2)),
    (Target::Fetch, At::Acks(30, 9)),
    (Target::Fetch, At::Ms(130)),
    (Target::Fetch, At::Acks(17, 1)),
    (Target::Fetch, At::Acks(36, 5)),
    (Target::Fetch, At::Ms(180)),
    (Target::Fetch, At::Acks(10, 3)),
    (Target::Fetch, At::Acks(24, 6)),
    (Target::Fetch, At::Acks(40, 0)),
];

fn source_id(feed: usize) -> String {
    format!("feed{feed:02}")
}

fn item_url(feed: usize, item: usize) -> String {
    format!("https://site{feed}.example.com/post/{item}")
}

fn item_title(feed: usize, item: usize) -> String {
    format!("Dispatch {item} from site {feed} (token f{feed}i{item})")
}

fn window(round: usize) -> Range<usize> {
    round * SLIDE..round * SLIDE + ITEMS
}

/// `(feed, item)` from an item URL this test generated.
fn parse_item_url(url: &str) -> Option<(usize, usize)> {
    let rest = url.strip_prefix("https://site")?;
    let (feed, item) = rest.split_once(".example.com/post/")?;
    Some((feed.parse().ok()?, item.parse().ok()?))
}

/// RSS 2.0 for one feed in one round, newest item first, dated within November 2026. Each
/// round's descriptions are a word longer, so items seen before are updated (the fullest
/// summary wins) and every poll rewrites its stories.
fn feed_xml(feed: usize, round: usize) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z").unwrap();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\n\
         <title>Site {feed}</title><link>https://site{feed}.example.com/</link>\
         <description>Generated for the crash test</description>\n"
    );
    for item in window(round).rev() {
        let date =
            base + chrono::Duration::hours(item as i64) + chrono::Duration::minutes(feed as i64);
        xml.push_str(&format!(
            "<item><title>{}</title><link>{}</link><guid>{}</guid><pubDate>{}</pubDate>\
             <description>Post {item} of site {feed}, round {round}:{}</description></item>\n",
            item_title(feed, item),
            item_url(feed, item),
            item_url(feed, item),
            date.to_rfc2822(),
            " more".repeat(round),
        ));
    }
    xml.push_str("</channel></rss>\n");
    xml
}

fn crash_config(up: &Upstream, files: &Path) -> ConfigBuilder {
    let mut config = config().poll("60s").timeout("5s");
    for f in 0..FEEDS {
        // An absolute path: `Upstream` joins it onto fixtures/, which yields the path itself.
        let path = files.join(format!("feed{f}.rss"));
        let url = up.serve(&format!("/feed{f}.rss"), path.to_str().unwrap());
        config = config.source(feed(&source_id(f), url));
    }
    for t in 0..TOPICS {
        let ids: Vec<String> = (t * FEEDS_PER_TOPIC..(t + 1) * FEEDS_PER_TOPIC)
            .map(source_id)
            .collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        config = config.topic(
            topic(&format!("crash-{t}"))
                .title(&format!("Crash {t}"))
                .sources(&ids)
                .sort("recent")
                .limit(1000),
        );
    }
    config
}

/// What one killed run printed.
struct Run {
    /// Source ids acknowledged, in order.
    acked: Vec<String>,
    /// The process exited on its own before the kill.
    finished: bool,
    /// Spawn to kill.
    elapsed: Duration,
    /// Spawn to the first acknowledgement.
    first_ack: Option<Duration>,
    output: String,
}

/// A source id if `line` acknowledges a poll: `fetch` prints `<id> 200 ok ...` or
/// `<id> 304 unchanged ...` after the poll's writes are flushed; `serve` logs `fetched` or
/// `not modified` after them.
fn ack(target: Target, line: &str) -> Option<String> {
    match target {
        Target::Fetch => {
            let mut words = line.split_whitespace();
            let id = words.next()?;
            match (words.next()?, words.next()?) {
                ("200", "ok") | ("304", "unchanged") => Some(id.to_string()),
                _ => panic!("a poll failed: {line}"),
            }
        }
        Target::Serve => {
            if line.contains("fetch failed") {
                panic!("a poll failed: {line}");
            }
            if !(line.contains(" fetched ") || line.contains(" not modified ")) {
                return None;
            }
            let id = line.split_once("source=")?.1.split_whitespace().next()?;
            Some(id.to_string())
        }
    }
}

/// A child that is SIGKILLed and reaped however the test leaves it, a failed assert included.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns `target`, SIGKILLs it at `at` (or when it gives up waiting), and collects every
/// acknowledgement that reached the pipe before it died.
fn run_and_kill(ws: &Workspace, target: Target, at: At) -> Run {
    let mut cmd = feedsift();
    match target {
        Target::Fetch => cmd.args(["fetch", "--once"]).env("RUST_LOG", "warn"),
        Target::Serve => cmd.arg("serve").env("RUST_LOG", "info"),
    };
    let mut child = KillOnDrop(
        cmd.arg("--config")
            .arg(ws.config_path())
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let start = Instant::now();
    let (tx, rx) = mpsc::channel::<(bool, String)>();
    let readers: Vec<_> = [
        (
            true,
            Box::new(child.0.stdout.take().unwrap()) as Box<dyn Read + Send>,
        ),
        (false, Box::new(child.0.stderr.take().unwrap())),
    ]
    .into_iter()
    .map(|(is_stdout, stream)| {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send((is_stdout, line));
            }
        })
    })
    .collect();
    drop(tx);
    let ack_stream = matches!(target, Target::Fetch);
    let mut run = Run {
        acked: Vec::new(),
        finished: false,
        elapsed: Duration::ZERO,
        first_ack: None,
        output: String::new(),
    };
    let take = |run: &mut Run, (is_stdout, line): (bool, String)| {
        if is_stdout == ack_stream {
            if let Some(id) = ack(target, &line) {
                run.first_ack.get_or_insert_with(|| start.elapsed());
                run.acked.push(id);
            }
        }
        run.output.push_str(&line);
        run.output.push('\n');
    };
    let give_up = start + Duration::from_secs(5);
    let mut kill_at = None;
    loop {
        let until = match at {
            At::Ms(ms) => start + Duration::from_millis(ms),
            At::Acks(k, ms) if run.acked.len() >= k => {
                *kill_at.get_or_insert_with(|| Instant::now() + Duration::from_millis(ms))
            }
            At::Acks(..) => give_up,
        };
        let wait = until.saturating_duration_since(Instant::now());
        if wait.is_zero() {
            break;
        }
        match rx.recv_timeout(wait) {
            Ok(line) => take(&mut run, line),
            Err(mpsc::RecvTimeoutError::Timeout) => break,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    run.elapsed = start.elapsed();
    let _ = child.0.kill();
    let status = child.0.wait().unwrap();
    for line in rx.iter() {
        take(&mut run, line);
    }
    for reader in readers {
        reader.join().unwrap();
    }
    run.finished = status.signal() != Some(9);
    if run.finished {
        assert!(
            status.success(),
            "{target:?} exited with {status}:\n{}",
            run.output
        );
    }
    run
}

/// One source's fetch state as `feedsift status` reports it.
struct State {
    etag: Option<String>,
    next_poll: Option<chrono::DateTime<chrono::Utc>>,
}

/// Runs `feedsift status`: it must open the store and report every source, none failing.
/// Returns the story count, each source's state and how long it took.
fn status(ws: &Workspace) -> (usize, BTreeMap<String, State>, Duration) {
    let started = Instant::now();
    let out = ws.run(&["status"]);
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "status after a kill: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut states = BTreeMap::new();
    for s in report["sources"].as_array().unwrap() {
        assert_eq!(s["consecutive_failures"], 0, "{s}");
        let next_poll = s["next_poll"].as_str().map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .unwrap()
                .with_timezone(&chrono::Utc)
        });
        let etag = s["etag"].as_str().map(String::from);
        states.insert(
            s["id"].as_str().unwrap().to_string(),
            State { etag, next_poll },
        );
    }
    assert_eq!(states.len(), FEEDS);
    (report["stories"].as_u64().unwrap() as usize, states, took)
}

/// What is served: feed -> item -> the round its summary (the fullest seen) was written in.
type Served = BTreeMap<usize, BTreeMap<usize, usize>>;

/// Starts `serve`, reads every topic's JSON Feed, stops it with SIGTERM.
fn served(rt: &tokio::runtime::Runtime, ws: &Workspace) -> Served {
    let daemon = rt.block_on(ws.serve());
    // All topics at once: rendering (and compressing) a topic is the slow part in debug.
    let feeds: Vec<serde_json::Value> = rt.block_on(async {
        let mut requests = tokio::task::JoinSet::new();
        for topic in 0..TOPICS {
            let url = daemon.url(&format!("/t/crash-{topic}.json"));
            requests.spawn(async move {
                let r = get(&url).await;
                assert!(r.status().is_success(), "{url}: {}", r.status());
                (topic, r.bytes().await.unwrap())
            });
        }
        let mut bodies = requests.join_all().await;
        bodies.sort_by_key(|(topic, _)| *topic);
        bodies
            .iter()
            .map(|(_, body)| serde_json::from_slice(body).unwrap())
            .collect()
    });
    let mut items = Served::new();
    for (topic, feed) in feeds.iter().enumerate() {
        for item in feed["items"].as_array().unwrap() {
            let url = item["url"].as_str().unwrap();
            let (f, i) = parse_item_url(url).unwrap_or_else(|| panic!("foreign item {url}"));
            assert_eq!(f / FEEDS_PER_TOPIC, topic, "{url} in crash-{topic}");
            assert_eq!(item["title"], item_title(f, i), "{item}");
            let round = item["summary"]
                .as_str()
                .and_then(|s| s.split_once(", round ")?.1.split(':').next()?.parse().ok())
                .unwrap_or_else(|| panic!("no round in the summary: {item}"));
            let again = items.entry(f).or_default().insert(i, round);
            assert!(again.is_none(), "{url} served twice");
        }
    }
    let (exit, stderr) = daemon.stop();
    assert!(
        exit.success(),
        "serve exited with {exit} after SIGTERM: {stderr}"
    );
    items
}

/// The upstream's ETag for each feed now: lets a stored validator be traced to its round.
fn etags(rt: &tokio::runtime::Runtime, up: &Upstream) -> Vec<String> {
    rt.block_on(async {
        let mut tags = Vec::new();
        for feed in 0..FEEDS {
            let r = get(&up.url(&format!("/feed{feed}.rss"))).await;
            tags.push(r.headers()["etag"].to_str().unwrap().to_string());
        }
        tags
    })
}

/// What the test knows: which rounds each source was acknowledged in, and each round's ETags.
#[derive(Default)]
struct Ledger {
    acked: BTreeMap<usize, BTreeSet<usize>>,
    /// (feed, etag) -> round.
    rounds_by_etag: HashMap<(usize, String), usize>,
    round: usize,
}

impl Ledger {
    fn ack(&mut self, id: &str) {
        let feed: usize = id.strip_prefix("feed").unwrap().parse().unwrap();
        self.acked.entry(feed).or_default().insert(self.round);
    }

    fn acked_items(&self) -> usize {
        let mut n = 0;
        for rounds in self.acked.values() {
            n += rounds
                .iter()
                .flat_map(|&r| window(r))
                .collect::<BTreeSet<_>>()
                .len();
        }
        n
    }

    /// The round whose content a stored validator belongs to; every ack has one no older.
    fn check_states(&self, states: &BTreeMap<String, State>) -> BTreeMap<usize, usize> {
        let mut stored = BTreeMap::new();
        for feed in 0..FEEDS {
            let id = source_id(feed);
            let round = states[&id].etag.as_ref().map(|etag| {
                *self
                    .rounds_by_etag
                    .get(&(feed, etag.clone()))
                    .unwrap_or_else(|| panic!("{id}: stored ETag {etag} was never served"))
            });
            if let Some(last) = self.acked.get(&feed).and_then(|r| r.last()) {
                let round = round.unwrap_or_else(|| {
                    panic!("{id}: fetch state acknowledged in round {last} is lost")
                });
                assert!(
                    round >= *last,
                    "{id}: fetch state rolled back to round {round}, acknowledged in round {last}"
                );
            }
            if let Some(round) = round {
                stored.insert(feed, round);
            }
        }
        stored
    }

    /// Acknowledged items are served, with a summary no older than acknowledged; nothing
    /// foreign is; a source that was not polled while serving holds whole rounds only,
    /// including all of the round its stored validator names.
    /// Returns how many acknowledged items were found and how many sources were checked whole.
    fn check_served(&self, served: &Served, states: &BTreeMap<String, State>) -> (usize, usize) {
        let stored_round = self.check_states(states);
        let soon = chrono::Utc::now() + chrono::Duration::seconds(10);
        let empty = BTreeMap::new();
        let (mut found, mut whole_sources) = (0, 0);
        for feed in 0..FEEDS {
            let id = source_id(feed);
            let items = served.get(&feed).unwrap_or(&empty);
            // Each item at the latest round it was acknowledged in; then its validator's round.
            let mut needed: BTreeMap<usize, usize> = BTreeMap::new();
            for &round in self.acked.get(&feed).into_iter().flatten() {
                needed.extend(window(round).map(|i| (i, round)));
            }
            found += needed.len();
            let polled_while_serving = states[&id].next_poll.is_none_or(|at| at < soon);
            if !polled_while_serving {
                if let Some(&round) = stored_round.get(&feed) {
                    for i in window(round) {
                        let r = needed.entry(i).or_default();
                        *r = round.max(*r);
                    }
                }
                let whole: BTreeSet<usize> = (0..=self.round)
                    .filter(|&r| window(r).all(|i| items.contains_key(&i)))
                    .flat_map(window)
                    .collect();
                let held: BTreeSet<usize> = items.keys().copied().collect();
                assert_eq!(whole, held, "{id}: a fetch was applied in part");
                whole_sources += 1;
            }
            for (&item, &round) in &needed {
                match items.get(&item) {
                    None => panic!("{id}: item {item}, stored in round {round}, is lost"),
                    Some(&r) if r < round => {
                        panic!(
                            "{id}: item {item} has round {r}'s text, but round {round} was \
                             acknowledged or is named by the stored validator"
                        )
                    }
                    Some(_) => {}
                }
            }
            for (&item, &round) in items {
                assert!(
                    round <= self.round && window(round).contains(&item),
                    "{id}: item {item} at round {round} was never served"
                );
            }
        }
        (found, whole_sources)
    }
}

#[test]
fn kill_9_during_ingest_loses_nothing_acknowledged() {
    kill_9_during_ingest(None);
}

/// The same on PostgreSQL: durability is the commit's, and a killed `serve` leaves its
/// source leases to expire (2 s) before the next run may poll those sources.
#[test]
fn kill_9_during_ingest_loses_nothing_acknowledged_on_postgres() {
    kill_9_during_ingest(Some(crate::support::postgres::database()));
}

fn kill_9_during_ingest(database: Option<String>) {
    let began = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let up = rt.block_on(Upstream::start());
    let files = tempfile::tempdir().unwrap();
    let mut config = crash_config(&up, files.path());
    if let Some(url) = &database {
        // One node id for every run: a restarted node takes its own leases back at once.
        config = config
            .store("url", url.as_str())
            .store("lease", "2s")
            .store("node_id", "crash-node");
    }
    let ws = Workspace::new(&config);
    let mut ledger = Ledger::default();
    let publish = |ledger: &mut Ledger, round: usize| {
        ledger.round = round;
        for feed in 0..FEEDS {
            let path = files.path().join(format!("feed{feed}.rss"));
            std::fs::write(path, feed_xml(feed, round)).unwrap();
        }
        for (feed, etag) in etags(&rt, &up).into_iter().enumerate() {
            ledger.rounds_by_etag.insert((feed, etag), round);
        }
    };

    // Kills before any acknowledgement, between the first and the last, after all of them;
    // runs that finished before their kill time (a fast machine) count as no kill.
    let (mut early, mut between, mut late, mut finished, mut unacked_writes) = (0, 0, 0, 0, 0);
    for (round, &(target, at)) in PLAN.iter().enumerate() {
        publish(&mut ledger, round);
        let run = run_and_kill(&ws, target, at);
        for id in &run.acked {
            ledger.ack(id);
        }
        let (stories, states, took) = status(&ws);
        let stored = ledger.check_states(&states);
        let written = stored.values().filter(|&&r| r == round).count();
        assert!(
            written >= run.acked.len(),
            "round {round}: {} acknowledged, {written} stored:\n{}",
            run.acked.len(),
            run.output
        );
        assert!(
            stories >= ledger.acked_items(),
            "round {round}: {stories} stories"
        );
        match run.acked.len() {
            _ if run.finished => finished += 1,
            0 => early += 1,
            FEEDS => late += 1,
            _ => between += 1,
        }
        unacked_writes += written - run.acked.len();
        eprintln!(
            "round {round:>2}: {:<5} kill at {:<12} after {:>3} ms (first ack at {:>3}): \
             {:>2} acknowledged, {:>2} stored; {stories} stories, status took {} ms{}",
            format!("{target:?}"),
            format!("{at:?}"),
            run.elapsed.as_millis(),
            run.first_ack
                .map_or_else(|| "-".to_string(), |d| d.as_millis().to_string()),
            run.acked.len(),
            written,
            took.as_millis(),
            if run.finished {
                " (finished first)"
            } else {
                ""
            },
        );
        if round % CHECK_EVERY == CHECK_EVERY - 1 {
            let (items, whole) = ledger.check_served(&served(&rt, &ws), &states);
            eprintln!("  served: {items} acknowledged stories present, {whole} sources whole");
        }
    }

    // A last round runs to completion for every source and everything is served.
    publish(&mut ledger, PLAN.len());
    let out = ws.fetch_once();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), FEEDS, "{out}");
    let mut ids = BTreeSet::new();
    for line in &lines {
        assert!(line.contains(" 200 ok "), "a new round is stored: {line}");
        let id = ack(Target::Fetch, line).unwrap();
        ledger.ack(&id);
        ids.insert(id);
    }
    assert_eq!(ids.len(), FEEDS, "one line per source: {out}");
    eprintln!("final fetch, e.g.: {}", lines[0]);
    let (stories, states, _) = status(&ws);
    let served = served(&rt, &ws);
    let (items, whole) = ledger.check_served(&served, &states);
    assert_eq!(whole, FEEDS, "every source was checked whole");
    let total: usize = served.values().map(BTreeMap::len).sum();
    assert_eq!(stories, total, "stored stories vs served");
    let killed = early + between + late;
    eprintln!(
        "{killed} SIGKILLs: {early} before the first acknowledgement, {between} between, {late} after \
         the last; {unacked_writes} polls stored but killed before acknowledged; all {items} \
         acknowledged stories served, {total} in all; {:.1} s",
        began.elapsed().as_secs_f64()
    );
    assert!(
        killed >= 20,
        "only {killed} runs were killed; {finished} finished first"
    );
}
