//! 10,000 operations in flight at once against one loopback server: every one
//! reaches its outcome, none is lost or duplicated, and memory stays bounded.

#[path = "support/server.rs"]
#[allow(dead_code)] // shared with the scenario tests, which use all of it
mod server;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use lro_poller::policy::{ConstantBuilder, PollPolicy};
use lro_poller::transport::ReqwestTransport;
use lro_poller::{Operation, Transport, TransportError};
use server::{Server, reply};
use tokio::sync::Semaphore;

const OPERATIONS: usize = 10_000;

/// Bounds the requests in flight (the operations all stay in flight).
struct Bounded {
    inner: ReqwestTransport,
    permits: Arc<Semaphore>,
}

#[async_trait::async_trait]
impl Transport for Bounded {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let _permit = self.permits.acquire().await.expect("semaphore open");
        self.inner.send(request).await
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
fn ten_thousand_operations_in_flight() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let server = Server::start().await;
        for i in 0..OPERATIONS {
            // Every third operation meets a transient failure first.
            let mut script = Vec::new();
            if i % 3 == 0 {
                script.push(reply(503).header("retry-after", "0"));
            }
            script.push(reply(202).json(r#"{"status":"inProgress","percentageComplete":50}"#));
            script.push(reply(200).json(&format!(
                r#"{{"status":"completed","resourceId":"item-{i}"}}"#
            )));
            server.on(&format!("/m/{i}"), script);
        }
        let before = rss_kib();
        let transport = Arc::new(Bounded {
            inner: ReqwestTransport::default(),
            permits: Arc::new(Semaphore::new(128)),
        });
        let handles: Vec<_> = (0..OPERATIONS)
            .map(|i| {
                let operation =
                    Operation::monitor(Arc::clone(&transport), server.url(&format!("/m/{i}")))
                        .with_policy(
                            PollPolicy::new(ConstantBuilder::new(Duration::from_millis(5)))
                                .with_min_interval(Duration::ZERO),
                        )
                        .build()
                        .unwrap();
                tokio::spawn(async move { (i, operation.await) })
            })
            .collect();
        let mut seen = vec![false; OPERATIONS];
        for handle in handles {
            let (i, outcome) = handle.await.unwrap();
            let outcome = outcome.unwrap_or_else(|e| panic!("operation {i}: {e}"));
            assert_eq!(outcome.resource_id(), Some(format!("item-{i}").as_str()));
            assert!(!seen[i], "operation {i} finished twice");
            seen[i] = true;
        }
        assert!(seen.iter().all(|s| *s));
        let after = rss_kib();

        // Exactly the scripted polls reached the server: none lost, none extra.
        let mut polls = vec![0u32; OPERATIONS];
        for request in server.requests() {
            let i: usize = request.path.trim_start_matches("/m/").parse().unwrap();
            polls[i] += 1;
        }
        for (i, count) in polls.iter().enumerate() {
            let expected = if i % 3 == 0 { 3 } else { 2 };
            assert_eq!(*count, expected, "operation {i}");
        }
        // Bounded memory: the growth over the whole run (which includes the
        // server's request log) stays far below a runaway's.
        let growth = after.saturating_sub(before);
        println!("10,000 operations: RSS {before} KiB -> {after} KiB (+{growth} KiB)");
        assert!(growth < 512 * 1024, "RSS grew by {growth} KiB");
    });
}
