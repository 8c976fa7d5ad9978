//! Sentence-embedding throughput of `semantic::Embedder` on one thread (matrixmultiply is
//! built without its threading feature): one story of exactly 128 tokens, the daemon's
//! default limit (criterion's elem/s is stories/s), and a batch of 32 short titles.
//! Needs the real model: `scripts/fetch-model.sh` (or FEEDSIFT_MODEL_DIR).
//! Run: `cargo bench --bench embed`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use feedsift::semantic::{model_files, Embedder, DEFAULT_MAX_TOKENS};
use std::hint::black_box;
use std::path::Path;

const TITLES: [&str; 8] = [
    "Show HN: A feed reader that fits in one binary",
    "Why we moved our queue from Kafka to Postgres",
    "The Rust borrow checker, explained with diagrams",
    "Raft consensus in 300 lines of Go",
    "Ask HN: How do you keep up with security advisories?",
    "Profiling a memory leak in a Node.js service",
    "SQLite is faster than you think for read-heavy workloads",
    "A tour of io_uring for network servers",
];

fn embedder() -> Embedder {
    let dir = model_files::dev_model_dir(Path::new(env!("CARGO_MANIFEST_DIR")));
    Embedder::load(&dir).unwrap_or_else(|e| {
        panic!("the embed bench needs the model ({e}): run scripts/fetch-model.sh")
    })
}

fn bench_embed(c: &mut Criterion) {
    let embedder = embedder();
    // A story body long enough to fill the limit: truncated to exactly 128 tokens.
    let story = TITLES.join(". ").repeat(4);
    let tokens = embedder.token_ids(&story).len();
    assert_eq!(tokens, DEFAULT_MAX_TOKENS);
    eprintln!("story of {tokens} tokens ([CLS] and [SEP] included), one thread");

    let mut group = c.benchmark_group("embed");
    group.throughput(Throughput::Elements(1));
    group.sample_size(30);
    group.bench_function("story-128-tokens", |b| {
        b.iter(|| embedder.embed(black_box(&story)))
    });
    group.finish();

    let titles: Vec<&str> = TITLES.iter().cycle().take(32).copied().collect();
    let title_tokens: usize = titles.iter().map(|t| embedder.token_ids(t).len()).sum();
    eprintln!(
        "32 titles, {:.1} tokens each on average",
        title_tokens as f64 / 32.0
    );
    let mut group = c.benchmark_group("embed_batch");
    group.throughput(Throughput::Elements(titles.len() as u64));
    group.sample_size(20);
    group.bench_function("32-titles", |b| {
        b.iter(|| embedder.embed_batch(black_box(&titles)))
    });
    group.bench_function("32-titles-one-by-one", |b| {
        b.iter(|| {
            titles
                .iter()
                .map(|t| embedder.embed(black_box(t)))
                .collect::<Vec<_>>()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_embed);
criterion_main!(benches);
