//! The fleet against real engines: every behaviour on SQLite (a temp file)
//! and on a throwaway PostgreSQL the test starts itself, with a loopback
//! Graph-like service.

mod postgres;
mod service;
mod suite;

/// Runs `$name` from the suite once per engine.
macro_rules! on_every_engine {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let url = format!("sqlite:{}", dir.path().join("fleet.db").display());
                    crate::suite::$name(&url).await;
                }
            )*
        }
        mod postgresql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let server = crate::postgres::Postgres::start();
                    crate::suite::$name(&server.url()).await;
                }
            )*
        }
    };
}

on_every_engine!(
    submit_is_idempotent,
    a_worker_drives_fifty_operations_to_their_ends,
    a_failed_job_records_the_service_error,
    two_racing_workers_record_each_outcome_once,
    a_dead_workers_rows_are_taken_over_after_its_lease,
    nothing_is_polled_after_its_end,
);
