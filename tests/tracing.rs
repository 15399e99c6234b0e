//! The `tracing` feature: a span per operation, an event per poll, and the
//! outcome — with the monitor URL redacted.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lro_poller::Operation;
use lro_poller::policy::{ConstantBuilder, PollPolicy};
use lro_poller::testing::{ScriptedTransport, VirtualTimer};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn spans_and_events_describe_the_operation_without_secrets() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let transport = ScriptedTransport::new();
        transport.push_response(
            202,
            &[("retry-after", "3")],
            r#"{"status":"inProgress","percentageComplete":27.8}"#,
        );
        transport.push_response(503, &[], "busy");
        transport.push_response(200, &[], r#"{"status":"completed","resourceId":"01X"}"#);
        let operation =
            Operation::monitor(transport, "https://monitor.example/jobs/1?tempauth=SECRET")
                .with_timer(VirtualTimer::new())
                .with_policy(PollPolicy::new(ConstantBuilder::new(Duration::from_secs(
                    1,
                ))))
                .build()
                .unwrap();
        futures::executor::block_on(operation.outcome()).unwrap();
    });
    let log = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(!log.contains("SECRET"), "{log}");
    assert!(log.contains("lro.operation"), "{log}");
    assert!(
        log.contains("monitor=https://monitor.example/jobs/1?…"),
        "{log}"
    );
    assert!(
        log.contains("protocol=\"auto\"") || log.contains("protocol=auto"),
        "{log}"
    );
    assert!(
        log.contains("status=inProgress") && log.contains("progress=Some(27.8)"),
        "{log}"
    );
    assert!(
        log.contains("retry_after=Some(3s)") && log.contains("next_delay=Some(3s)"),
        "{log}"
    );
    assert!(log.contains("retrying"), "{log}");
    assert!(
        log.contains("operation ended") && log.contains("outcome=\"succeeded\""),
        "{log}"
    );
}
