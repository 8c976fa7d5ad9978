//! Parse and parse+normalize throughput per source kind, over synthetic listings of 100 items
//! sized like real captures. Criterion prints entries/s and MB/s for each. The `baseline`
//! group only tokenizes the same bytes (serde_json into a `Value`, quick-xml events): the
//! same-run reference that `scripts/bench-micro.sh` divides by.
//! Run: `cargo bench --bench parse` (or `scripts/bench-micro.sh`)

mod common;

use common::{Kind, Rng};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use feedsift::normalize::{Candidate, DEFAULT_SUMMARY_WORDS};
use feedsift::sources::{self, SourceContext};
use std::hint::black_box;

const ITEMS: usize = 100;

fn bench_parse(c: &mut Criterion) {
    let config = common::config();
    let mut rng = Rng::new(8);
    let listings: Vec<(Kind, Vec<u8>)> = Kind::ALL
        .iter()
        .map(|&kind| {
            let items = common::items(
                &mut rng,
                ITEMS,
                0..10_000,
                common::now().timestamp(),
                7 * 86_400,
            );
            (kind, kind.listing(&items))
        })
        .collect();
    for (kind, body) in &listings {
        eprintln!(
            "listing {:<10} {ITEMS} items, {} bytes ({} bytes/item)",
            kind.name(),
            body.len(),
            body.len() / ITEMS
        );
    }
    let mut group = c.benchmark_group("baseline");
    for (kind, body) in &listings {
        group.throughput(Throughput::ElementsAndBytes {
            elements: ITEMS as u64,
            bytes: body.len() as u64,
        });
        group.bench_function(kind.name(), |b| b.iter(|| tokenize(*kind, black_box(body))));
    }
    group.finish();
    for stage in ["parse", "parse+normalize"] {
        let mut group = c.benchmark_group(stage);
        for (kind, body) in &listings {
            let source = config
                .sources
                .iter()
                .find(|s| s.id == kind.name())
                .expect("bench config has every kind");
            let ctx = SourceContext {
                source,
                url: &source.url,
                fetched_at: common::now(),
                max_entries: config.defaults.max_entries,
            };
            let parsed = sources::parse(&ctx, body).expect("synthetic listing parses");
            assert_eq!(parsed.sightings.len(), ITEMS, "{}", kind.name());
            group.throughput(Throughput::ElementsAndBytes {
                elements: ITEMS as u64,
                bytes: body.len() as u64,
            });
            group.bench_function(kind.name(), |b| {
                b.iter(|| {
                    let parsed = sources::parse(&ctx, black_box(body)).unwrap();
                    if stage == "parse" {
                        return parsed.sightings.len();
                    }
                    parsed
                        .sightings
                        .into_iter()
                        .filter_map(|s| {
                            Candidate::from_sighting(s, DEFAULT_SUMMARY_WORDS, false).ok()
                        })
                        .count()
                })
            });
        }
        group.finish();
    }
}

/// Reads every token of `body` and nothing more: the floor any adapter stands on.
fn tokenize(kind: Kind, body: &[u8]) -> usize {
    match kind {
        Kind::Rss | Kind::Atom => {
            let mut reader = quick_xml::Reader::from_reader(body);
            let mut buf = Vec::new();
            let mut events = 0;
            loop {
                match reader.read_event_into(&mut buf) {
                    Ok(quick_xml::events::Event::Eof) | Err(_) => break events,
                    Ok(_) => events += 1,
                }
                buf.clear();
            }
        }
        _ => match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::Array(a)) => a.len(),
            Ok(_) => 1,
            Err(_) => 0,
        },
    }
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
