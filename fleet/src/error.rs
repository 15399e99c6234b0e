//! What can go wrong with the table itself.

/// A fleet's error: the database, its migrations, or a URL it cannot use.
/// A poll's failure is not one: it is recorded in the row.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    /// The database refused or failed a query, or could not be reached.
    #[error("fleet database: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema's migrations could not be applied.
    #[error("fleet migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The URL names no engine the fleet runs on (`sqlite:PATH` or `postgres://…`).
    #[error("unsupported fleet database URL `{0}`: use sqlite:PATH or postgres://…")]
    UnsupportedUrl(String),
    /// A row holds a value the fleet did not write (an unknown state).
    #[error("fleet row {id}: {reason}")]
    Corrupt {
        /// The row's id.
        id: i64,
        /// What is wrong with it.
        reason: String,
    },
}
