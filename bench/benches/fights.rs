//! Hot paths of fights that run per iteration: routing, decoding a POSTed fight,
//! the fight rule, and encoding the stored fight as the JSON answer.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use fights::{
    fight::{fight, winner, Roll},
    model::{Fight, FightDoc, FightRequest, Fighter, FighterInput},
    routes::route,
};
use http::Method;
use mongodb::bson::{oid::ObjectId, DateTime};

/// A POST /api/fights body of typical seed rows (`database/seed.py` writes it): the
/// original's shape, so each bench does the work of a real iteration.
const REQUEST: &[u8] = include_bytes!("../fixtures/fight.json");

fn fighter(name: &str, level: i64) -> Fighter {
    Fighter {
        name: name.into(),
        level,
        picture: Some("https://p/x.jpg".into()),
        powers: Some("Flight".into()),
    }
}

fn routing(c: &mut Criterion) {
    let mut group = c.benchmark_group("fights/route");
    for (name, method, path) in [
        ("randomfighters", Method::GET, "/api/fights/randomfighters"),
        ("post", Method::POST, "/api/fights"),
        ("by_id", Method::GET, "/api/fights/653bea9d188984908cd12429"),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| route(black_box(&method), black_box(path)).is_ok())
        });
    }
    group.finish();
}

fn decode(c: &mut Criterion) {
    c.bench_function("fights/decode_request", |b| {
        b.iter(|| {
            let mut body = REQUEST.to_vec();
            black_box(kit::json::from_body::<FightRequest>(&mut body).is_ok())
        })
    });
}

fn rule(c: &mut Criterion) {
    let (hero, villain) = (
        fighter("Hero", 600_000_001),
        fighter("Villain", 600_000_001),
    );
    c.bench_function("fights/rule", |b| {
        b.iter(|| black_box(winner(&hero, &villain, Roll::random())))
    });
}

fn encode(c: &mut Criterion) {
    let mut body = REQUEST.to_vec();
    let request: FightRequest = kit::json::from_body(&mut body).unwrap_or_default();
    let seed_fighter = |input: Option<FighterInput>| {
        let input = input.unwrap_or_default();
        Fighter {
            name: input.name.unwrap_or_default(),
            level: input.level.unwrap_or(1),
            picture: input.picture,
            powers: input.powers,
        }
    };
    let (hero, villain) = (seed_fighter(request.hero), seed_fighter(request.villain));
    let outcome = fight(hero, villain, request.location, Roll::random());
    let stored = Fight::from(FightDoc::new(outcome, ObjectId::new(), DateTime::now()));
    c.bench_function("fights/encode_fight", |b| {
        b.iter(|| black_box(kit::json::to_bytes(&stored, 4096)))
    });
}

criterion_group!(benches, routing, decode, rule, encode);
criterion_main!(benches);
