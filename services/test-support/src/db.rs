//! Throwaway databases: each test gets its own, created from the project's schema files
//! and dropped when the test ends.

use std::env;

const POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const MYSQL_URL: &str = "mysql://root@127.0.0.1:3306";
const MONGODB_URL: &str = "mongodb://127.0.0.1:27017";
const HOW_TO_START: &str = "start the databases with `make test` or `database/setup.sh all`";

/// A PostgreSQL database of one test, dropped on drop.
pub struct PgDb {
    pub url: String,
    admin: String,
    name: String,
}

/// Creates a database and runs `sql` (the schema files' contents) in it. Connects with
/// `TEST_POSTGRES_URL`, a superuser URL.
pub async fn postgres(sql: &[&str]) -> PgDb {
    let admin = env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| POSTGRES_URL.to_owned());
    let name = crate::unique("test");
    let client = pg_connect(&admin).await;
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap_or_else(|err| panic!("cannot create a test database: {err}"));
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    let url = format!("{base}/{name}");
    let db = pg_connect(&url).await;
    for script in sql {
        db.batch_execute(script)
            .await
            .unwrap_or_else(|err| panic!("schema failed: {err}"));
    }
    PgDb { url, admin, name }
}

async fn pg_connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|err| {
            panic!("PostgreSQL at {url} is not reachable ({err}): {HOW_TO_START}")
        });
    tokio::spawn(connection);
    client
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        drop_in_thread(async move {
            let client = pg_connect(&admin).await;
            let _ = client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        });
    }
}

/// A MariaDB database of one test, dropped on drop.
pub struct MyDb {
    pub url: String,
    admin: String,
    name: String,
}

/// Creates a database and runs `sql` in it. Connects with `TEST_MYSQL_URL`, a URL of a
/// user allowed to create databases, without a database path.
pub async fn mysql(sql: &[&str]) -> MyDb {
    use mysql_async::prelude::Queryable;
    let admin = env::var("TEST_MYSQL_URL").unwrap_or_else(|_| MYSQL_URL.to_owned());
    let name = crate::unique("locations_test");
    let mut conn = my_connect(&admin).await;
    conn.query_drop(format!("CREATE DATABASE {name}"))
        .await
        .unwrap_or_else(|err| panic!("cannot create a test database: {err}"));
    let url = format!("{}/{name}", admin.trim_end_matches('/'));
    let mut db = my_connect(&url).await;
    for script in sql {
        db.query_drop(*script)
            .await
            .unwrap_or_else(|err| panic!("schema failed: {err}"));
    }
    let _ = db.disconnect().await;
    let _ = conn.disconnect().await;
    MyDb { url, admin, name }
}

async fn my_connect(url: &str) -> mysql_async::Conn {
    let opts =
        mysql_async::Opts::from_url(url).unwrap_or_else(|err| panic!("bad URL {url}: {err}"));
    mysql_async::Conn::new(opts)
        .await
        .unwrap_or_else(|err| panic!("MariaDB at {url} is not reachable ({err}): {HOW_TO_START}"))
}

impl Drop for MyDb {
    fn drop(&mut self) {
        use mysql_async::prelude::Queryable;
        let (admin, name) = (self.admin.clone(), self.name.clone());
        drop_in_thread(async move {
            let mut conn = my_connect(&admin).await;
            let _ = conn
                .query_drop(format!("DROP DATABASE IF EXISTS {name}"))
                .await;
            let _ = conn.disconnect().await;
        });
    }
}

/// `TEST_MONGODB_URL` and a database name of this test alone.
pub fn mongodb() -> (String, String) {
    let url = env::var("TEST_MONGODB_URL").unwrap_or_else(|_| MONGODB_URL.to_owned());
    (url, crate::unique("fights_test"))
}

/// Runs a cleanup future to completion from `Drop`, on a runtime of its own because the
/// test's runtime may be shutting down.
fn drop_in_thread(cleanup: impl std::future::Future<Output = ()> + Send + 'static) {
    let thread = std::thread::spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            rt.block_on(cleanup);
        }
    });
    let _ = thread.join();
}
