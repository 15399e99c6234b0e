//! The engine behind a URL, the pool and the migrations.

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

use crate::error::FleetError;

/// The database engine a fleet runs on (the SQL differs where they do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    fn of(url: &str) -> Option<Engine> {
        if url.starts_with("sqlite:") {
            Some(Engine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Engine::Postgres)
        } else {
            None
        }
    }
}

/// Connects to `url` (a SQLite file is created if missing), and applies the
/// engine's migrations.
pub(crate) async fn connect(url: &str) -> Result<(AnyPool, Engine), FleetError> {
    sqlx::any::install_default_drivers();
    let engine = Engine::of(url).ok_or_else(|| FleetError::UnsupportedUrl(url.to_owned()))?;
    let url = match engine {
        Engine::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
        _ => url.to_owned(),
    };
    let pool = AnyPoolOptions::new()
        .max_connections(8)
        .connect(&url)
        .await?;
    match engine {
        Engine::Sqlite => {
            // Readers do not block the writer; the mode is kept in the file.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
            sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        }
        Engine::Postgres => sqlx::migrate!("migrations/postgres").run(&pool).await?,
    }
    Ok((pool, engine))
}
