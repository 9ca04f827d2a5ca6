//! Hot paths of heroes and villains: routing a request and drawing a random id.

use std::hint::black_box;

use catalog::{routes::route, HEROES};
use criterion::{criterion_group, criterion_main, Criterion};
use http::Method;
use kit::RandomIds;

fn routing(c: &mut Criterion) {
    let mut group = c.benchmark_group("catalog/route");
    for (name, method, path) in [
        ("random_hero", Method::GET, "/api/heroes/random_hero"),
        ("by_id", Method::GET, "/api/heroes/12345"),
        ("unknown", Method::GET, "/api/nothing/here"),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| route(HEROES, black_box(&method), black_box(path)))
        });
    }
    group.finish();
}

fn random_pick(c: &mut Criterion) {
    let ids = RandomIds::default();
    ids.replace((0..10_000).map(|i| i * 50 + 1));
    c.bench_function("catalog/random_ids/pick_of_10k", |b| {
        b.iter(|| black_box(ids.pick()))
    });
    c.bench_function("catalog/random_ids/insert_remove", |b| {
        b.iter(|| {
            ids.insert(black_box(1_000_001));
            ids.remove(black_box(1_000_001));
        })
    });
}

criterion_group!(benches, routing, random_pick);
criterion_main!(benches);
