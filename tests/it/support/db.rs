//! Test databases: a fresh SQLite file always, and a fresh PostgreSQL database per test when
//! `KEEL_TEST_POSTGRES_URL` is set (CI sets it). If it is set but the server cannot be reached,
//! the test fails: it never silently skips PostgreSQL.

use keel::store::Store;
use std::sync::atomic::{AtomicU32, Ordering};

/// A database for one test; call [`TestDb::finish`] at the end to drop a PostgreSQL database.
pub struct TestDb {
    pub store: Store,
    pub backend: &'static str,
    /// The URL, for a `keel` process to use the same database.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// Drops the PostgreSQL test database (SQLite's directory goes with `self`).
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = self.postgres {
            let admin = Store::connect_admin(&admin_url).await;
            admin.drop_database(&name).await;
        }
    }
}

/// Every backend this run tests: SQLite, plus PostgreSQL when configured.
pub async fn backends() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    if let Ok(url) = std::env::var("KEEL_TEST_POSTGRES_URL") {
        dbs.push(postgres(&url).await);
    }
    dbs
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("keel.db").display());
    let store = Store::connect(&url).await.expect("open SQLite");
    TestDb {
        store,
        backend: "sqlite",
        url,
        _dir: Some(dir),
        postgres: None,
    }
}

pub async fn postgres(admin_url: &str) -> TestDb {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "keel_test_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let admin = Store::connect_admin(admin_url).await;
    admin.create_database(&name).await;
    let url = with_database(admin_url, &name);
    let store = Store::connect(&url).await.unwrap_or_else(|e| {
        panic!("KEEL_TEST_POSTGRES_URL is set but {url} cannot be used: {e:#}")
    });
    TestDb {
        store,
        backend: "postgres",
        url,
        _dir: None,
        postgres: Some((admin_url.to_owned(), name)),
    }
}

/// `postgres://u@h:p/db?x` → the same URL with database `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].rfind('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Admin statements on the PostgreSQL server, for creating and dropping test databases.
trait Admin {
    async fn connect_admin(url: &str) -> sqlx::PgPool;
}

impl Admin for Store {
    async fn connect_admin(url: &str) -> sqlx::PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(url)
            .await
            .unwrap_or_else(|e| panic!("KEEL_TEST_POSTGRES_URL={url} is set but unreachable: {e}"))
    }
}

trait AdminPool {
    async fn create_database(&self, name: &str);
    async fn drop_database(&self, name: &str);
}

impl AdminPool for sqlx::PgPool {
    async fn create_database(&self, name: &str) {
        let sql = format!("CREATE DATABASE \"{name}\"");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(self)
            .await
            .expect("create test database");
    }

    async fn drop_database(&self, name: &str) {
        let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(self)
            .await
            .expect("drop test database");
        self.close().await;
    }
}
