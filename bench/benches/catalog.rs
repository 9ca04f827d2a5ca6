//! Hot paths of heroes and villains: routing a request, drawing a random id and encoding
//! the row a random pick answers (a typical seed hero, of the original's shape).

use std::hint::black_box;

use catalog::{
    model::{Character, Input},
    routes::route,
    HEROES,
};
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

/// The hero of `bench/fixtures/fight.json` (`database/seed.py` writes it), as the store
/// returns it.
fn seed_hero() -> Character {
    #[derive(serde::Deserialize)]
    struct Fixture {
        hero: Input,
    }
    let mut text = include_bytes!("../fixtures/fight.json").to_vec();
    let Ok(Fixture { hero }) = kit::json::from_body::<Fixture>(&mut text) else {
        panic!("bench/fixtures/fight.json holds a hero");
    };
    Character {
        id: hero.id.unwrap_or(1),
        name: hero.name.unwrap_or_default(),
        other_name: hero.other_name,
        level: hero.level.and_then(|l| i32::try_from(l).ok()).unwrap_or(1),
        picture: hero.picture,
        powers: hero.powers,
    }
}

fn encode_row(c: &mut Criterion) {
    let hero = seed_hero();
    assert!(
        hero.powers.as_ref().is_some_and(|p| p.len() > 400),
        "{hero:?}"
    );
    c.bench_function("catalog/encode_row", |b| {
        b.iter(|| black_box(kit::json::to_bytes(black_box(&hero), 1024)))
    });
}

criterion_group!(benches, routing, random_pick, encode_row);
criterion_main!(benches);
