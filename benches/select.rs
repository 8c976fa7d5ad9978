//! Selecting one topic over N stored stories (N = 1k, 10k), all inside the topic's 30-day
//! window: `select` alone over stories in memory, and the whole cache-miss path of the server
//! (`views::render_topic`: window read from sled, decode, select, render RSS; and the same
//! through the topic's index, `rss-indexed`). The `baseline`
//! group clones the same stories (what `select` receives by value), the same-run reference.
//! Run: `cargo bench --bench select` (or `scripts/bench-micro.sh`)

mod common;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use feedsift::render::Format;
use feedsift::select;
use feedsift::store::SourceState;
use feedsift::store::Store;
use feedsift::topics::index;
use feedsift::topics::views::{self, View};
use std::hint::black_box;

const SIZES: [usize; 2] = [1_000, 10_000];
const WINDOW_SECS: i64 = 29 * 86_400;

fn bench_select(c: &mut Criterion) {
    let config = common::config();
    let topic = config.topic("distributed-systems").expect("bench topic");
    let now = common::now();
    for n in SIZES {
        let stories = common::stories(1, n, WINDOW_SECS);
        let kept = select::select(topic, stories.clone(), now).len();
        let passing = stories
            .iter()
            .filter(|s| topic.rules.evaluate(s).passes)
            .count();
        eprintln!(
            "select over {} stories: {passing} pass the rules, {kept} kept",
            stories.len()
        );
        let mut group = c.benchmark_group(format!("select/{n}"));
        group.throughput(Throughput::Elements(stories.len() as u64));
        group.bench_function("baseline-clone", |b| {
            b.iter_batched(
                || (),
                |()| black_box(stories.clone()),
                BatchSize::SmallInput,
            )
        });
        group.bench_function("select", |b| {
            b.iter_batched(
                || stories.clone(),
                |input| select::select(topic, input, black_box(now)),
                BatchSize::LargeInput,
            )
        });
        group.finish();
    }
}

fn bench_render_topic(c: &mut Criterion) {
    let config = common::config();
    let topic = config.topic("distributed-systems").expect("bench topic");
    let now = common::now();
    for n in SIZES {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("store");
        let candidates = common::candidates(1, n, WINDOW_SECS, 60);
        for batch in candidates.chunks(1000) {
            store
                .apply(batch, "bench", &SourceState::default())
                .expect("apply");
        }
        let stories = store.story_count();
        let mut group = c.benchmark_group(format!("render_topic/{n}"));
        group.throughput(Throughput::Elements(stories as u64));
        group.sample_size(20);
        group.bench_function("window-read", |b| {
            b.iter(|| store.stories_since(topic.window_start(now)).unwrap().len())
        });
        let render = || {
            views::render_topic(
                &config,
                &store,
                topic,
                View::Feed(Format::Rss),
                "",
                black_box(now),
            )
            .unwrap()
            .bytes
        };
        group.bench_function("rss", |b| b.iter(|| render().len()));
        // The same through the topic's index (what a daemon serves once it is built).
        let scanned = render();
        store
            .register_indexes(index::for_topics(&config.topics))
            .expect("register");
        store.build_indexes(now, &|| false).expect("build");
        assert_eq!(render(), scanned, "the index gives the same feed");
        group.bench_function("rss-indexed", |b| b.iter(|| render().len()));
        group.finish();
    }
}

criterion_group!(benches, bench_select, bench_render_topic);
criterion_main!(benches);
