//! Status parsing: `AsyncJobStatus::from_json` against deserialising the same
//! bytes into a `serde_json::Value` (the least a caller parsing by hand pays).
//!
//! Run: `cargo bench --bench parse`

mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use lro_poller::AsyncJobStatus;

const BODIES: [(&str, &str); 3] = [
    (
        "in_progress",
        r#"{"operation":"ItemCopy","percentageComplete":27.8,"status":"inProgress"}"#,
    ),
    (
        "completed",
        r#"{"percentageComplete":100.0,"resourceId":"01MOWKALTXPSWA4NCTOJE3R7KMMEZ3SZO6","status":"completed"}"#,
    ),
    (
        "failed",
        r##"{"@odata.type":"#microsoft.graph.asyncJobStatus","status":"failed","errorCode":"nameAlreadyExists","statusDescription":"Completed 0/0 files; 0/9314 bytes","error":{"code":"generalException","message":"An item with the same name already exists.","innerError":{"date":"2024-05-01T10:00:00","request-id":"7f5c"}}}"##,
    ),
];

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for (name, body) in BODIES {
        let bytes = body.as_bytes();
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("value", name), bytes, |b, bytes| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(bytes)))
        });
        group.bench_with_input(BenchmarkId::new("from_json", name), bytes, |b, bytes| {
            b.iter(|| AsyncJobStatus::from_json(black_box(bytes)))
        });
    }
    group.finish();
}

fn time_per_call<T>(iterations: u32, mut f: impl FnMut() -> T) -> Duration {
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(f());
    }
    start.elapsed() / iterations
}

/// Alternates rounds of both parsers and prints the median per-round ratio.
fn interleaved_ratio(name: &str, bytes: &[u8]) {
    const ROUNDS: usize = 31;
    const ITERATIONS: u32 = 20_000;
    let mut ratios = Vec::with_capacity(ROUNDS);
    let mut base = Vec::with_capacity(ROUNDS);
    let mut ours = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let value = time_per_call(ITERATIONS, || {
            serde_json::from_slice::<serde_json::Value>(black_box(bytes))
        });
        let status = time_per_call(ITERATIONS, || AsyncJobStatus::from_json(black_box(bytes)));
        ratios.push(status.as_secs_f64() / value.as_secs_f64());
        base.push(value);
        ours.push(status);
    }
    ratios.sort_by(f64::total_cmp);
    base.sort();
    ours.sort();
    let mid = ROUNDS / 2;
    println!(
        "ratio {name} ({} bytes): from_json {:?} / Value {:?} = {:.3}x",
        bytes.len(),
        ours[mid],
        base[mid],
        ratios[mid],
    );
}

fn main() {
    let mut criterion = support::criterion(Duration::from_secs(1));
    benches(&mut criterion);
    criterion.final_summary();
    if support::measuring() {
        for (name, body) in BODIES {
            interleaved_ratio(name, body.as_bytes());
        }
    }
}
