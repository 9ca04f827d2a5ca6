//! The fights service against the real heroes, villains and locations services, run in
//! process on PostgreSQL and MariaDB databases of this test loaded with the project's
//! seed data.

use catalog::Side;
use kit::config::Env;
use simd_json::prelude::*;
use test_support::{
    db::{MyDb, PgDb},
    Spawned,
};

use crate::fakes::Downstreams;
use crate::helpers::spawn_with;

async fn catalog(side: &'static Side, scripts: [&str; 3]) -> (Spawned, PgDb) {
    let db = test_support::db::postgres(&scripts).await;
    let env = Env::from_pairs([("DATABASE_URL", db.url.as_str()), ("DB_POOL_MAX", "2")]);
    let config = catalog::Config::from_env(side, &env).expect("valid catalog config");
    let service =
        test_support::spawn(|listener, shutdown| catalog::run(listener, config, shutdown)).await;
    (service, db)
}

async fn locations() -> (Spawned, MyDb) {
    let db = test_support::db::mysql(&[
        include_str!("../../../../database/locations-db/01-schema.sql"),
        include_str!("../../../../database/locations-db/02-seed.sql"),
    ])
    .await;
    let env = Env::from_pairs([
        ("DATABASE_URL", db.url.as_str()),
        ("DB_POOL_MAX", "2"),
        ("GRPC_BIND_ADDR", "127.0.0.1:0"),
    ]);
    let config = locations::Config::from_env(&env).expect("valid locations config");
    let service =
        test_support::spawn(|listener, shutdown| locations::run(listener, config, shutdown)).await;
    (service, db)
}

#[tokio::test]
async fn fighters_locations_and_fights_come_from_the_real_services() {
    let (heroes, _heroes_db) = catalog(
        catalog::HEROES,
        [
            include_str!("../../../../database/heroes-db/01-schema.sql"),
            catalog::HEROES.notify_sql,
            include_str!("../../../../database/heroes-db/03-seed.sql"),
        ],
    )
    .await;
    let (villains, _villains_db) = catalog(
        catalog::VILLAINS,
        [
            include_str!("../../../../database/villains-db/01-schema.sql"),
            catalog::VILLAINS.notify_sql,
            include_str!("../../../../database/villains-db/03-seed.sql"),
        ],
    )
    .await;
    let (locations, _locations_db) = locations().await;
    let downstreams = Downstreams {
        heroes: heroes.url(""),
        villains: villains.url(""),
        locations: locations.url(""),
    };
    let app = spawn_with(&downstreams, &[("DOWNSTREAM_TIMEOUT_MS", "2000")]).await;

    let fighters = app.client.get(&app.url("/api/fights/randomfighters")).await;
    let fight = app.client.get(&app.url("/api/fights/execute_fight")).await;
    let hello_heroes = app.client.get(&app.url("/api/fights/hello/heroes")).await;
    let hello_villains = app.client.get(&app.url("/api/fights/hello/villains")).await;
    let hello_locations = app
        .client
        .get(&app.url("/api/fights/hello/locations"))
        .await;
    let location = app.client.get(&app.url("/api/fights/randomlocation")).await;

    assert_eq!(fighters.status, 200);
    let fighters = fighters.json();
    let hero = fighters["hero"]["name"].as_str().unwrap();
    let villain = fighters["villain"]["name"].as_str().unwrap();
    assert!(!hero.is_empty() && hero != "Fallback hero", "{hero}");
    assert!(
        !villain.is_empty() && villain != "Fallback villain",
        "{villain}"
    );
    assert!(fighters["hero"]["level"].as_i64().unwrap() >= 1);
    assert_eq!(fight.status, 200, "{}", fight.body);
    let fight = fight.json();
    let names = [
        fight["winnerName"].as_str().unwrap(),
        fight["loserName"].as_str().unwrap(),
    ];
    assert!(
        !names.contains(&"Fallback hero") && !names.contains(&"Fallback villain"),
        "{names:?}"
    );
    let place = fight["location"]["name"].as_str().unwrap();
    assert!(!place.is_empty() && place != "Fallback location", "{place}");
    assert_eq!(
        (hello_heroes.status.as_u16(), hello_heroes.body.as_str()),
        (200, "Hello Hero Resource")
    );
    assert_eq!(hello_villains.body, "Hello Villain Resource");
    assert_eq!(hello_locations.body, "Hello Location Resource");
    assert_eq!(location.status, 200);
    let location = location.json();
    assert_ne!(location["name"], "Fallback location");
    assert!(location.get("type").is_none(), "extra fields are dropped");
}
