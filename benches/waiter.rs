//! Reading one answer with a waiter: `WaiterProtocol::read_poll` (the body
//! parsed once, then every acceptor's JMESPath path evaluated in order)
//! against deserialising the same bytes into a `serde_json::Value` (the least
//! any reader of the answer pays).
//!
//! Run: `cargo bench --bench waiter --features waiters`

mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput};
use lro_poller::protocol::Protocol;
use lro_poller::url::Url;
use lro_poller::waiter::{WaiterProtocol, Waiters};

const WAITERS: &str = include_str!("../tests/fixtures/waiters/instance_running.json");

/// A describe answer with three instances; `state` is the last one's.
fn answer(state: &str) -> http::Response<Bytes> {
    let instance = |id: &str, state: &str| {
        format!(
            r#"{{"InstanceId":"{id}","InstanceType":"m5.large","State":{{"Code":16,"Name":"{state}"}},"StateReason":{{"Message":""}},"Tags":[{{"Key":"team","Value":"storage"}}]}}"#
        )
    };
    let body = format!(
        r#"{{"Reservations":[{{"ReservationId":"r-1","Instances":[{},{},{}]}}]}}"#,
        instance("i-1", "running"),
        instance("i-2", "running"),
        instance("i-3", state)
    );
    http::Response::builder()
        .status(200)
        .body(Bytes::from(body))
        .unwrap()
}

/// `pending`: no acceptor matches (all four are tried); `running`: the first does.
const CASES: [&str; 2] = ["pending", "running"];

fn benches(c: &mut Criterion, protocol: &WaiterProtocol, url: &Url) {
    let mut group = c.benchmark_group("waiter");
    for state in CASES {
        let response = answer(state);
        group.throughput(Throughput::Bytes(response.body().len() as u64));
        group.bench_with_input(BenchmarkId::new("value", state), &response, |b, r| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(r.body())))
        });
        group.bench_with_input(BenchmarkId::new("interpret", state), &response, |b, r| {
            b.iter(|| protocol.read_poll(url, black_box(r)))
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

/// Alternates rounds of both and prints the median per-round ratio.
fn interleaved_ratio(protocol: &WaiterProtocol, url: &Url, state: &str) {
    const ROUNDS: usize = 21;
    const ITERATIONS: u32 = 5_000;
    let response = answer(state);
    let mut ratios = Vec::with_capacity(ROUNDS);
    let mut base = Vec::with_capacity(ROUNDS);
    let mut ours = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let value = time_per_call(ITERATIONS, || {
            serde_json::from_slice::<serde_json::Value>(black_box(response.body()))
        });
        let read = time_per_call(ITERATIONS, || protocol.read_poll(url, black_box(&response)));
        ratios.push(read.as_secs_f64() / value.as_secs_f64());
        base.push(value);
        ours.push(read);
    }
    ratios.sort_by(f64::total_cmp);
    base.sort();
    ours.sort();
    let mid = ROUNDS / 2;
    println!(
        "ratio {state} ({} bytes): interpret {:?} / Value {:?} = {:.2}x",
        response.body().len(),
        ours[mid],
        base[mid],
        ratios[mid],
    );
}

fn main() {
    let waiters = Waiters::from_json(WAITERS).expect("the fixture reads");
    let protocol = WaiterProtocol::named(&waiters, "InstanceRunning").expect("the waiter exists");
    let url = Url::parse("https://compute.example/").unwrap();
    let mut criterion = support::criterion(Duration::from_secs(1));
    benches(&mut criterion, &protocol, &url);
    criterion.final_summary();
    if support::measuring() {
        for state in CASES {
            interleaved_ratio(&protocol, &url, state);
        }
    }
}
