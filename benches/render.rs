//! Rendering a topic's stories in each format (RSS, Atom, JSON Feed, HTML page, embed) for 30
//! and 100 items, plus the compression the server runs once per render (gzip best and
//! brotli q5, the settings of `server/encoding.rs`). The `baseline` serializes the same
//! stories with `serde_json::to_vec`: a generic writer over the same data, in the same run.
//! Run: `cargo bench --bench render` (or `scripts/bench-micro.sh`)

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use feedsift::model::Story;
use feedsift::render::html::{self, PageFacts};
use feedsift::render::{FeedMeta, Format};
use std::hint::black_box;
use std::io::Write;

fn meta() -> FeedMeta {
    FeedMeta {
        title: "Distributed Systems".into(),
        description: "Consensus algorithms, CAP theorem, fault tolerance.".into(),
        home_url: "http://127.0.0.1:8080/t/distributed-systems".into(),
        self_url: "http://127.0.0.1:8080/t/distributed-systems.rss".into(),
        updated: common::now(),
        full_content: false,
        hubs: Vec::new(),
    }
}

/// Serializing the same stories with serde_json: a generic writer over the same data.
fn serde_json_baseline(stories: &[Story]) -> usize {
    serde_json::to_vec(stories).map_or(0, |v| v.len())
}

fn gzip_best(bytes: &[u8]) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap().len()
}

fn brotli_q5(bytes: &[u8]) -> usize {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 5,
        lgwin: 22,
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).unwrap();
    out.len()
}

fn bench_render(c: &mut Criterion) {
    let meta = meta();
    let all = common::stories(3, 2_000, 29 * 86_400);
    let facts = PageFacts {
        slug: "distributed-systems".into(),
        sources: vec![
            "Hacker News".into(),
            "/r/programming".into(),
            "Lobsters".into(),
        ],
        window: "30 days".into(),
    };
    for n in [30usize, 100] {
        let stories = &all[..n];
        let mut group = c.benchmark_group(format!("render/{n}"));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function("baseline-serde-json", |b| {
            b.iter(|| serde_json_baseline(black_box(stories)))
        });
        for format in [Format::Rss, Format::Atom, Format::JsonFeed] {
            let size = format.render(&meta, stories).len();
            eprintln!("render {n} items as {}: {size} bytes", format.extension());
            group.bench_function(format.extension(), |b| {
                b.iter(|| format.render(&meta, black_box(stories)).len())
            });
        }
        group.bench_function("html", |b| {
            b.iter(|| {
                html::topic_page("http://127.0.0.1:8080", &meta, &facts, black_box(stories)).len()
            })
        });
        group.bench_function("embed", |b| {
            b.iter(|| html::embed(&meta, black_box(stories)).len())
        });
        let rss = Format::Rss.render(&meta, stories);
        group.bench_function("rss-gzip-best", |b| b.iter(|| gzip_best(black_box(&rss))));
        group.bench_function("rss-brotli-q5", |b| b.iter(|| brotli_q5(black_box(&rss))));
        group.finish();
    }
}

criterion_group!(benches, bench_render);
criterion_main!(benches);
