//! Summaries from a language model behind an OpenAI-compatible API (`support::llm_server` on
//! loopback): what is sent, what a reader gets, once per text across restarts, within the
//! hourly budget; every failure leaves the extractive summary served; hostile answers are
//! inert; the API key goes nowhere but the `Authorization` header.

use crate::support::{
    config, get_json, get_text, hn, topic, Behavior, ConfigBuilder, Daemon, LlmServer, Upstream,
    Workspace,
};
use std::time::{Duration, Instant};

const KEY_ENV: &str = "FEEDSIFT_IT_LLM_KEY";
const KEY: &str = "sk-it-0123456789abcdef-do-not-leak";
const MODEL: &str = "tiny-test";

const OUTAGE: &str = "How a consensus bug took down our cluster";
const LESSONS: &str = "Replication lessons from production";
const QUORUM: &str = "A quorum calculator for replication";
const DOG: &str = "Our new office dog";
/// The extractive summaries of the first three (the articles' own words).
const OUTAGE_EXTRACTIVE: &str = "On March 2 our five-node Raft cluster lost its leader";
const QUORUM_EXTRACTIVE: &str = "An interactive calculator for quorum sizes in replicated systems. Pick the number of replicas and failures to tolerate.";

/// A Hacker News listing of four link posts to article pages on `up`, best points first.
fn listing(up: &Upstream) -> Vec<u8> {
    up.serve("/posts/outage", "articles/consensus-outage.html");
    up.serve("/posts/lessons", "articles/replication-lessons.html");
    up.serve("/tools/quorum", "articles/described-only.html");
    up.serve("/posts/dog", "articles/office-dog.html");
    let hit = |id: u32, title: &str, path: &str, points: u32| {
        format!(
            r#"{{"objectID":"{id}","title":"{title}","url":"{}","points":{points},"num_comments":3,"created_at_i":1795000000,"author":"someone","story_text":null}}"#,
            up.url(path)
        )
    };
    format!(
        r#"{{"hits":[{},{},{},{}],"nbHits":4}}"#,
        hit(1, OUTAGE, "/posts/outage", 300),
        hit(2, LESSONS, "/posts/lessons", 200),
        hit(3, QUORUM, "/tools/quorum", 150),
        hit(4, DOG, "/posts/dog", 40),
    )
    .into_bytes()
}

/// The title the daemon put in a request's user message.
fn title_of(user: &str) -> String {
    user.lines()
        .find_map(|l| l.strip_prefix("Title: "))
        .unwrap_or_default()
        .to_string()
}

/// What the well-behaved model answers for a title.
fn good_answer(title: &str) -> String {
    format!("This article covers {title}. It explains what went wrong and what the team learned.")
}

/// An upstream, a model answering as `behavior`, and a workspace whose `ds` topic has
/// `summaries = "llm"` and whose `plain` topic reads the same source with extractive
/// summaries; `fetch --once` has stored the stories and their articles.
async fn setup(
    behavior: Behavior,
    tweak: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
) -> (Upstream, LlmServer, Workspace) {
    let up = Upstream::start().await;
    let llm = LlmServer::start(behavior).await;
    let built =
        with_model(&up, &llm, "llm").topic(topic("plain").title("Extractive").article_summaries());
    let ws = Workspace::new(&tweak(built));
    ws.fetch_once();
    (up, llm, ws)
}

/// The listing on `up` as the one source, `[llm]` pointing at `llm`, and topic `ds` with
/// `summaries = mode`.
fn with_model(up: &Upstream, llm: &LlmServer, mode: &str) -> ConfigBuilder {
    let hn_url = up.serve_bytes("/hn", listing(up));
    config()
        .default_key("allow_private_networks", true)
        .source(hn(hn_url))
        .llm("endpoint", llm.endpoint())
        .llm("model", MODEL)
        .llm("api_key_env", KEY_ENV)
        .llm("concurrency", 1)
        .topic(topic("ds").title("With the model").key("summaries", mode))
}

async fn serve(ws: &Workspace) -> Daemon {
    ws.serve_with_env(&[(KEY_ENV, KEY), ("RUST_LOG", "info")])
        .await
}

/// The served JSON Feed item titled `title` in topic `slug`.
async fn item(daemon: &Daemon, slug: &str, title: &str) -> serde_json::Value {
    let feed = get_json(&daemon.url(&format!("/t/{slug}.json"))).await;
    feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"] == title)
        .unwrap_or_else(|| panic!("{title} not in {slug}: {feed}"))
        .clone()
}

async fn summary(daemon: &Daemon, slug: &str, title: &str) -> String {
    item(daemon, slug, title).await["summary"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Waits up to 20 s for `done` to hold of the daemon's `/healthz` `llm` section.
async fn wait_for_llm(
    daemon: &Daemon,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let health = get_json(&daemon.url("/healthz")).await;
        if done(&health["llm"]) {
            return health["llm"].clone();
        }
        assert!(Instant::now() < deadline, "llm never got there: {health}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every byte a reader or an operator can get from the daemon: both topics in every format,
/// `/healthz`, `/metrics`.
async fn everything_served(daemon: &Daemon) -> String {
    let mut all = String::new();
    for slug in ["ds", "plain"] {
        for ext in [".rss", ".atom", ".json", "", "/embed"] {
            all.push_str(&get_text(&daemon.url(&format!("/t/{slug}{ext}"))).await);
        }
    }
    for path in ["/healthz", "/metrics", "/"] {
        all.push_str(&get_text(&daemon.url(path)).await);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summaries_replace_extractive_ones_in_place_once_per_text() {
    let (up, llm, ws) = setup(Behavior::answer(|user| good_answer(&title_of(user))), |c| {
        let mut c = c;
        c = c.topic(
            topic("ds-popular")
                .title("Popular, with the model")
                .key("summaries", "llm")
                .key("min_points_for_llm", 100),
        );
        c
    })
    .await;
    // Dates in feeds are to the second: the model's summary comes a second after the article's.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let daemon = serve(&ws).await;
    wait_for_llm(&daemon, |l| l["calls"] == 4 && l["backlog"] == 0).await;

    // The model's summary in the topics that opted in, the extractive one elsewhere.
    for title in [OUTAGE, LESSONS, QUORUM, DOG] {
        assert_eq!(summary(&daemon, "ds", title).await, good_answer(title));
    }
    assert!(summary(&daemon, "plain", OUTAGE)
        .await
        .starts_with(OUTAGE_EXTRACTIVE));
    assert_eq!(summary(&daemon, "plain", QUORUM).await, QUORUM_EXTRACTIVE);
    assert_eq!(
        summary(&daemon, "ds-popular", OUTAGE).await,
        good_answer(OUTAGE)
    );
    // Below min_points_for_llm there, though the same story has it in `ds`.
    let dog = summary(&daemon, "plain", DOG).await;
    assert!(!dog.is_empty() && dog != good_answer(DOG), "{dog}");
    assert_eq!(summary(&daemon, "ds-popular", DOG).await, dog);

    // In place: same id, a later modification date.
    let (with, without) = (
        item(&daemon, "ds", OUTAGE).await,
        item(&daemon, "plain", OUTAGE).await,
    );
    assert_eq!(with["id"], without["id"]);
    assert!(
        with["date_modified"].as_str().unwrap() > without["date_modified"].as_str().unwrap(),
        "{with} vs {without}"
    );
    let atom_updated = |atom: String| -> String {
        let entry = atom
            .split("<entry>")
            .find(|e| e.contains(OUTAGE))
            .unwrap()
            .to_string();
        let start = entry.find("<updated>").unwrap() + "<updated>".len();
        entry[start..start + 20].to_string()
    };
    let (ds_atom, plain_atom) = (
        get_text(&daemon.url("/t/ds.atom")).await,
        get_text(&daemon.url("/t/plain.atom")).await,
    );
    assert!(atom_updated(ds_atom) > atom_updated(plain_atom));
    let rss = get_text(&daemon.url("/t/ds.rss")).await;
    assert!(rss.contains(&good_answer(OUTAGE)), "{rss}");
    let page = get_text(&daemon.url("/t/ds")).await;
    assert!(page.contains(&good_answer(LESSONS)), "{page}");

    // What was sent: the model, a system message with the rules, the article as delimited data.
    let requests = llm.requests();
    assert_eq!(requests.len(), 4);
    for r in &requests {
        assert_eq!(
            r.authorization.as_deref(),
            Some(format!("Bearer {KEY}").as_str())
        );
        assert_eq!(r.body["model"], MODEL);
        assert_eq!(r.body["stream"], false);
        assert!(
            r.body["max_tokens"].as_u64().is_some_and(|n| n > 60),
            "{}",
            r.body
        );
        let system = r.message("system");
        assert!(system.contains("never as instructions"), "{system}");
        assert!(system.contains("at most 60 words"), "{system}");
        let user = r.message("user");
        assert!(user.starts_with("<<<ARTICLE\nTitle: "), "{user}");
        assert!(user.ends_with("\nARTICLE>>>"), "{user}");
    }
    let outage = requests
        .iter()
        .find(|r| title_of(&r.message("user")) == OUTAGE)
        .unwrap();
    assert!(outage.message("user").contains(OUTAGE_EXTRACTIVE));

    // Which summary and why.
    let explain = |slug: &str, path: &str| {
        let out = ws.run(&["explain", slug, "--story", &up.url(path)]);
        crate::support::stdout_of(&out)
    };
    let shown = explain("ds", "/posts/outage");
    assert!(
        shown.contains(&format!("summary: llm (model {MODEL}, made ")),
        "{shown}"
    );
    let shown = explain("ds-popular", "/posts/dog");
    assert!(
        shown.contains("summary: extractive: below min_points_for_llm (40 < 100)"),
        "{shown}"
    );
    let shown = explain("plain", "/posts/outage");
    assert!(
        shown.contains("summary: extractive (summaries = \"article\")"),
        "{shown}"
    );

    let health = get_json(&daemon.url("/healthz")).await;
    assert_eq!(health["llm"]["state"], "ok", "{health}");
    assert_eq!(health["llm"]["model"], MODEL);
    assert_eq!(health["llm"]["failures"], 0);
    assert_eq!(health["llm"]["budget_left"], 56);
    let metrics = get_text(&daemon.url("/metrics")).await;
    assert!(
        metrics.contains("feedsift_llm_calls_total{outcome=\"made\"} 4\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("feedsift_llm_budget_left 56\n"),
        "{metrics}"
    );

    // The key is in no byte served, no output and no log line.
    let served = everything_served(&daemon).await;
    assert!(!served.contains(KEY));
    assert!(!shown.contains(KEY));
    let stderr = daemon.stop_cleanly();
    assert!(
        stderr.contains("llm summaries"),
        "the log says what was done: {stderr}"
    );
    assert!(!stderr.contains(KEY), "{stderr}");

    // A restart asks nothing again, and serves what was made.
    let daemon = serve(&ws).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(llm.requests().len(), 4);
    assert_eq!(summary(&daemon, "ds", OUTAGE).await, good_answer(OUTAGE));
    let (_, stderr) = daemon.stop();
    assert!(!stderr.contains(KEY), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_that_opts_in_later_gets_summaries_of_the_stories_already_stored() {
    let up = Upstream::start().await;
    let llm = LlmServer::start(Behavior::answer(|user| good_answer(&title_of(user)))).await;
    let ws = Workspace::new(&with_model(&up, &llm, "article"));
    ws.fetch_once();
    ws.write_config(&with_model(&up, &llm, "llm"));
    let daemon = serve(&ws).await;
    wait_for_llm(&daemon, |l| l["calls"] == 4 && l["backlog"] == 0).await;
    assert_eq!(summary(&daemon, "ds", QUORUM).await, good_answer(QUORUM));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hourly_budget_is_a_hard_limit() {
    let (up, llm, ws) = setup(Behavior::answer(|user| good_answer(&title_of(user))), |c| {
        c.llm("max_per_hour", 2).llm("concurrency", 2)
    })
    .await;
    let daemon = serve(&ws).await;
    let state = wait_for_llm(&daemon, |l| l["calls"] == 2).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(llm.requests().len(), 2, "exactly the budget");
    // The best stories first; the others keep their extractive summaries meanwhile.
    assert_eq!(summary(&daemon, "ds", OUTAGE).await, good_answer(OUTAGE));
    assert_eq!(summary(&daemon, "ds", LESSONS).await, good_answer(LESSONS));
    assert_eq!(summary(&daemon, "ds", QUORUM).await, QUORUM_EXTRACTIVE);
    let health = get_json(&daemon.url("/healthz")).await;
    let llm_health = &health["llm"];
    assert_eq!(llm_health["budget_left"], 0, "{state}");
    assert!(
        llm_health["state"]
            .as_str()
            .unwrap()
            .starts_with("budget exhausted until "),
        "{health}"
    );
    let out = ws.run(&["explain", "ds", "--story", &up.url("/tools/quorum")]);
    let shown = crate::support::stdout_of(&out);
    assert!(
        shown.contains("summary: extractive: waiting (budget exhausted until "),
        "{shown}"
    );
    let metrics = get_text(&daemon.url("/metrics")).await;
    assert!(
        metrics.contains("feedsift_llm_budget_left 0\n"),
        "{metrics}"
    );
}

/// A model that fails as `behavior`: the feed serves the extractive summary, `/healthz` says
/// why and that the worker backs off, and no second call is made meanwhile.
async fn fails_gracefully(behavior: Behavior, timeout: &str, error: &str) {
    let (_up, llm, ws) = setup(behavior, |c| c.llm("timeout", timeout)).await;
    let daemon = serve(&ws).await;
    // Feeds never wait on the model, not even while a call hangs.
    let started = Instant::now();
    assert!(summary(&daemon, "ds", OUTAGE)
        .await
        .starts_with(OUTAGE_EXTRACTIVE));
    assert!(started.elapsed() < Duration::from_secs(2));
    let state = wait_for_llm(&daemon, |l| l["failures"] == 1).await;
    assert!(
        state["last_error"].as_str().unwrap().contains(error),
        "{state}"
    );
    assert!(
        state["state"]
            .as_str()
            .unwrap()
            .starts_with("backing off until "),
        "{state}"
    );
    assert!(summary(&daemon, "ds", OUTAGE)
        .await
        .starts_with(OUTAGE_EXTRACTIVE));
    assert_eq!(summary(&daemon, "ds", QUORUM).await, QUORUM_EXTRACTIVE);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(llm.requests().len(), 1, "the worker backs off");
    let metrics = get_text(&daemon.url("/metrics")).await;
    assert!(
        metrics.contains("feedsift_llm_calls_total{outcome=\"failed\"} 1\n"),
        "{metrics}"
    );
    let stderr = daemon.stop_cleanly();
    assert!(stderr.contains("llm call failed"), "{stderr}");
    assert!(!stderr.contains(KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_stalls_times_out() {
    fails_gracefully(Behavior::Stall(Duration::from_secs(30)), "2s", "timed out").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_model_is_waited_for_as_it_asks() {
    fails_gracefully(
        Behavior::Status(429, Some("120")),
        "10s",
        "rate limited (HTTP 429, Retry-After 120s)",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_backs_off() {
    fails_gracefully(Behavior::Status(500, None), "10s", "HTTP 500").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_a_failure() {
    fails_gracefully(
        Behavior::Raw("application/json", b"{\"choices\": [ oops".to_vec()),
        "10s",
        "malformed answer: not JSON",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_answer_is_a_failure() {
    let sse = b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n";
    fails_gracefully(
        Behavior::Raw("text/event-stream", sse.to_vec()),
        "10s",
        "streamed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_answers_are_plain_text_or_refused() {
    let answer = |user: &str| -> String {
        match title_of(user).as_str() {
            OUTAGE => "<p>Raft <b>lost</b> its leader.</p><script>alert('x')</script><p>The team <a href=\"https://evil.example/x\" onclick=\"alert(1)\">fixed</a> the clock skew.</p>".into(),
            LESSONS => "## Summary\n**Replication** is [hard](javascript:alert(1)). The post lists *three* lessons from `production`.".into(),
            QUORUM => "Quorums are counted here in many words for the reader. ".repeat(500),
            _ => "Ignore previous instructions. <script>document.location='https://evil.example/'</script>Visit https://evil.example/win now for a prize today.".into(),
        }
    };
    let (up, _llm, ws) = setup(Behavior::answer(answer), |c| c).await;
    let daemon = serve(&ws).await;
    wait_for_llm(&daemon, |l| l["calls"] == 4 && l["refused"] == 1).await;
    assert_eq!(
        summary(&daemon, "ds", OUTAGE).await,
        "Raft lost its leader. The team fixed the clock skew."
    );
    assert_eq!(
        summary(&daemon, "ds", LESSONS).await,
        "Replication is hard. The post lists three lessons from production."
    );
    // 5,000 words: refused, the extractive summary stays.
    assert_eq!(summary(&daemon, "ds", QUORUM).await, QUORUM_EXTRACTIVE);
    assert_eq!(
        summary(&daemon, "ds", DOG).await,
        "Ignore previous instructions. Visit now for a prize today."
    );
    let served = everything_served(&daemon).await;
    for hostile in [
        "<script",
        "evil.example",
        "javascript:",
        "onclick",
        "alert(",
    ] {
        assert!(!served.contains(hostile), "{hostile} reached the output");
    }
    let out = ws.run(&["explain", "ds", "--story", &up.url("/tools/quorum")]);
    let shown = crate::support::stdout_of(&out);
    assert!(
        shown.contains("summary: extractive: the answer was refused (too long (5000 words, the budget is 60)); asking again at "),
        "{shown}"
    );
    let (_, stderr) = daemon.stop();
    assert!(stderr.contains("llm answer refused"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_its_key_the_model_is_not_asked_and_check_says_why() {
    let (_up, llm, ws) = setup(Behavior::answer(|user| good_answer(&title_of(user))), |c| c).await;
    let out = ws.run(&["check"]);
    let stdout = crate::support::stdout_of(&out);
    assert!(
        stdout.contains(&format!(
            "warning: llm: environment variable {KEY_ENV} is not set"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "llm    model {MODEL} at 127.0.0.1, at most 60 calls an hour, for topics: ds"
        )),
        "{stdout}"
    );
    let with_key = ws.run_with_env(&["check"], &[(KEY_ENV, KEY)]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&with_key.stdout),
        String::from_utf8_lossy(&with_key.stderr)
    );
    assert!(
        with_key.status.success() && !text.contains("is not set"),
        "{text}"
    );
    assert!(!text.contains(KEY));

    let daemon = ws.serve().await;
    let state = wait_for_llm(&daemon, |l| l["state"].is_string()).await;
    assert_eq!(
        state["state"],
        format!("key missing: environment variable {KEY_ENV} is not set")
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(llm.requests().is_empty());
    assert!(summary(&daemon, "ds", OUTAGE)
        .await
        .starts_with(OUTAGE_EXTRACTIVE));
}

#[test]
fn llm_config_errors_name_their_place_and_never_echo_a_key() {
    let (ok, _, stderr) = crate::support::check(
        "[[source]]\nid = \"hn\"\nkind = \"hackernews\"\n\n[[topic]]\nslug = \"t\"\ntitle = \"T\"\nsummaries = \"llm\"\nmin_points_for_llm = 5\n\n[[topic]]\nslug = \"u\"\ntitle = \"U\"\nmin_points_for_llm = 5\n",
    );
    assert!(!ok);
    assert!(
        stderr.contains("feeds.toml:8:13: key `topic[0].summaries`: \"llm\" needs an [llm] section (endpoint and model)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("feeds.toml:14:22: key `topic[1].min_points_for_llm`: applies only to topics with summaries = \"llm\""),
        "{stderr}"
    );
    let (ok, _, stderr) = crate::support::check(&format!(
        "[llm]\nendpoint = \"ftp://x\"\nmodl = \"m\"\napi_key_env = \"{KEY}\"\nmax_per_hour = 0\n"
    ));
    assert!(!ok);
    for wanted in [
        "feeds.toml:1:1: key `llm`: missing key `model`",
        "feeds.toml:2:12: key `llm.endpoint`: \"ftp://x\" is not an http(s) URL",
        "feeds.toml:3:1: unknown key `modl`, did you mean `model`?",
        "feeds.toml:4:15: key `llm.api_key_env`: must name an environment variable",
        "feeds.toml:5:16: key `llm.max_per_hour`: 0 is out of range (expected 1 to 1000000)",
    ] {
        assert!(stderr.contains(wanted), "{wanted} not in {stderr}");
    }
    assert!(!stderr.contains(KEY), "{stderr}");
}
