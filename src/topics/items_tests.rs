//! Reading a topic through its index gives exactly what selecting over the whole window
//! gives: random stores, every sort, narrowings, and the writes in between.

use super::items;
use crate::model::{Sighting, StoryId};
use crate::normalize::Candidate;
use crate::select::{self, MinPoints, Sort, Term, Topic, TopicRules};
use crate::store::test_backends::{on_both_backends, TestStore};
use crate::store::SourceState;
use crate::store::{Store, StoryIndex};
use crate::topics::index::{self, TopicIndex};
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::collections::BTreeMap;

/// xorshift: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "raft",
    "paxos",
    "consensus",
    "rust",
    "nft",
    "database",
    "distributed",
    "kernel",
];
/// (source id, site key, site name).
const SITES: &[(&str, &str, &str)] = &[
    ("hn", "hackernews", "Hacker News"),
    ("reddit", "reddit:/r/programming", "/r/programming"),
    ("blog", "feed:blog", "Blog"),
];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
}

fn candidate(rng: &mut Rng, n: u64, site: usize, points: i64) -> Candidate {
    let (source, key, name) = SITES[site];
    let title: Vec<&str> = (0..3).map(|_| WORDS[rng.below(8) as usize]).collect();
    // Some stories share a publication second, some share points: ties must break the same.
    let published = now() - Duration::minutes((n as i64 % 300) * 290);
    let sighting = Sighting {
        source: source.into(),
        site: key.into(),
        site_name: name.into(),
        text: if n.is_multiple_of(3) {
            format!("notes on {}", WORDS[(n % 8) as usize])
        } else {
            String::new()
        },
        points: (key != "feed:blog").then_some(points),
        published: Some(published),
        ..Sighting::on_feed(
            &format!("https://example.com/story/{n}"),
            &title.join(" "),
            now(),
        )
    };
    Candidate::from_sighting(sighting, 60, false).unwrap()
}

fn topic(slug: &str, sort: Sort, window_days: u64, limit: usize, rules: TopicRules) -> Topic {
    Topic {
        slug: slug.into(),
        title: slug.into(),
        description: String::new(),
        sources: None,
        window: std::time::Duration::from_secs(window_days * 86_400),
        limit,
        sort,
        rules,
        summaries: Default::default(),
        full_content: false,
    }
}

fn topics() -> Vec<Topic> {
    let terms = |list: &[(&str, f64)]| -> Vec<Term> {
        list.iter().filter_map(|(t, w)| Term::new(t, *w)).collect()
    };
    let distributed = TopicRules {
        keywords: terms(&[("raft", 3.0), ("consensus", 2.0), ("distributed", 1.0)]),
        exclude: terms(&[("nft", 1.0)]),
        min_relevance: 2.0,
        min_points: MinPoints::PerSite(BTreeMap::from([
            ("hackernews".to_string(), 10),
            ("reddit".to_string(), 20),
        ])),
        ..Default::default()
    };
    let rust = TopicRules {
        keywords: terms(&[("rust", 1.0)]),
        min_relevance: 1.0,
        ..Default::default()
    };
    let mut blog = topic("blog", Sort::Recent, 20, 25, TopicRules::default());
    blog.sources = Some(vec!["blog".into()]);
    vec![
        topic("distributed", Sort::Points, 30, 15, distributed),
        blog,
        topic("rust", Sort::Hot, 30, 10, rust),
        topic("everything", Sort::Points, 45, 40, TopicRules::default()),
    ]
}

/// The topic as configured and as narrowed in each way a query can.
fn views(t: &Topic) -> Vec<Topic> {
    let mut out = vec![t.clone()];
    for sort in [Sort::Points, Sort::Recent, Sort::Hot] {
        let mut v = t.clone();
        v.sort = sort;
        out.push(v);
    }
    let mut v = t.clone();
    v.rules.required = vec![Term::new("database", 1.0).unwrap()];
    out.push(v);
    let mut v = t.clone();
    v.rules.exclude.push(Term::new("kernel", 1.0).unwrap());
    v.sort = Sort::Recent;
    out.push(v);
    let mut v = t.clone();
    v.rules.min_top_points = Some(50);
    out.push(v);
    let mut v = t.clone();
    v.window = std::time::Duration::from_secs(7 * 86_400);
    v.limit = 3;
    out.push(v);
    out
}

fn ids(stories: &[crate::model::Story]) -> Vec<StoryId> {
    stories.iter().map(|s| s.id).collect()
}

fn assert_same_as_window_scan(store: &Store, topics: &[Topic], when: &str) {
    // What the daemon's upkeep does within a second of a write; renders never wait for it.
    store.catch_up_indexes().unwrap();
    let mut empty_views = 0;
    for t in topics {
        let index = TopicIndex::new(t);
        assert!(
            store.index_ready(index.prefix(), index.fingerprint()),
            "{when}: {}",
            t.slug
        );
        for (i, shown) in views(t).iter().enumerate() {
            let expected = select::select(
                shown,
                store.stories_since(shown.window_start(now())).unwrap(),
                now(),
            );
            let got = items(store, t, shown, now()).unwrap();
            assert_eq!(
                ids(&got),
                ids(&expected),
                "{when}: topic {} view {i}",
                t.slug
            );
            empty_views += usize::from(got.is_empty());
        }
    }
    assert!(
        empty_views <= 2,
        "{when}: the comparison must see items ({empty_views} empty)"
    );
}

fn the_index_gives_what_the_window_scan_gives_across_writes(backend: &TestStore) {
    let store = backend.open();
    let mut rng = Rng(0x5eed_f00d_1234_5678);
    let apply = |batch: &[Candidate]| {
        store.apply(batch, "test", &SourceState::default()).unwrap();
    };
    let first: Vec<Candidate> = (0..400)
        .map(|n| {
            let points = [0, 7, 25, 50, 120][rng.below(5) as usize] + rng.below(3) as i64;
            candidate(&mut rng, n, (n % 3) as usize, points)
        })
        .collect();
    apply(&first);
    let topics = topics();
    store.register_indexes(index::for_topics(&topics)).unwrap();
    store.build_indexes(now(), &|| false).unwrap();
    assert_same_as_window_scan(&store, &topics, "after the build");

    // Re-polls: points move (up and down), a second site sees some stories, new ones arrive.
    let again: Vec<Candidate> = (0..560)
        .step_by(2)
        .map(|n| {
            let points = rng.below(200) as i64;
            candidate(&mut rng, n, ((n + 1) % 2) as usize, points)
        })
        .collect();
    apply(&again);
    assert_same_as_window_scan(&store, &topics, "after re-polls");

    for n in (0..600).step_by(7) {
        let id = StoryId::from_canonical_url(&format!("https://example.com/story/{n}"));
        store
            .set_article(
                id,
                None,
                "a distributed database with raft",
                &crate::store::ArticleState::default(),
                now(),
            )
            .unwrap();
    }
    assert_same_as_window_scan(&store, &topics, "after article summaries");

    store
        .prune_before(now() - Duration::days(25), 10_000)
        .unwrap();
    assert_same_as_window_scan(&store, &topics, "after pruning");
}

on_both_backends!(the_index_gives_what_the_window_scan_gives_across_writes,);
