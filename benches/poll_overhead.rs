//! Poll-step overhead: an [`Operation`] driven to its outcome, against a
//! hand-written polling loop that makes the same transport calls, parses the
//! same JSON and sleeps on the same virtual timer.
//!
//! Both sides use one in-memory transport that answers at once with
//! pre-built bodies (a `Bytes` clone, no copy), so what is left is the cost of
//! the crate's own machinery. Besides criterion's absolute figures the bench
//! prints an interleaved A/B ratio (median of alternating rounds), which holds
//! up better than two separate runs on a noisy, shared machine.
//!
//! Run: `cargo bench --bench poll_overhead --features test-util`

mod support;

use std::future::IntoFuture;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{InMemory, MONITOR, script};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion};
use futures::StreamExt;
use futures::executor::block_on;
use http::StatusCode;
use lro_poller::policy::{ConstantBuilder, PollPolicy};
use lro_poller::testing::VirtualTimer;
use lro_poller::timer::Timer;
use lro_poller::{AsyncJobStatus, Operation, Transport};

const DELAY: Duration = Duration::from_secs(1);

/// What a careful caller writes by hand: GET, check the code, parse, stop on a
/// terminal status, else sleep and go again.
async fn hand_written(
    transport: &dyn Transport,
    timer: &dyn Timer,
    url: &str,
) -> Result<AsyncJobStatus, Box<dyn std::error::Error + Send + Sync>> {
    loop {
        let request = http::Request::get(url)
            .header(http::header::ACCEPT, "application/json")
            .body(Bytes::new())?;
        let response = transport.send(request).await?;
        if !response.status().is_success() {
            return Err(format!("monitor answered {}", response.status()).into());
        }
        let status = AsyncJobStatus::from_json(response.body())?;
        if status.status.is_terminal() {
            return Ok(status);
        }
        timer.sleep(DELAY).await;
    }
}

#[inline(never)]
fn run_hand_written(answers: &Arc<[(StatusCode, Bytes)]>) -> AsyncJobStatus {
    let transport = InMemory::new(answers);
    let timer = VirtualTimer::new();
    block_on(hand_written(&transport, &timer, black_box(MONITOR))).expect("the job completes")
}

fn build(answers: &Arc<[(StatusCode, Bytes)]>) -> Operation {
    Operation::monitor(InMemory::new(answers), black_box(MONITOR))
        .with_timer(VirtualTimer::new())
        .with_policy(PollPolicy::new(ConstantBuilder::new(DELAY)))
        .build()
        .expect("a valid set-up")
}

#[inline(never)]
fn run_operation(answers: &Arc<[(StatusCode, Bytes)]>) -> AsyncJobStatus {
    let outcome = block_on(IntoFuture::into_future(build(answers))).expect("the job completes");
    outcome.status().clone()
}

#[inline(never)]
fn run_operation_stream(answers: &Arc<[(StatusCode, Bytes)]>) -> usize {
    let mut operation = build(answers);
    block_on(async {
        let mut seen = 0;
        while let Some(status) = operation.next().await {
            black_box(status.expect("a status"));
            seen += 1;
        }
        seen
    })
}

const POLLS: [usize; 2] = [4, 16];

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("poll_overhead");
    for polls in POLLS {
        let answers = script(polls);
        group.bench_with_input(
            BenchmarkId::new("hand_written", polls),
            &answers,
            |b, answers| b.iter(|| run_hand_written(answers)),
        );
        group.bench_with_input(
            BenchmarkId::new("operation_await", polls),
            &answers,
            |b, answers| b.iter(|| run_operation(answers)),
        );
        group.bench_with_input(
            BenchmarkId::new("operation_stream", polls),
            &answers,
            |b, answers| b.iter(|| run_operation_stream(answers)),
        );
    }
    group.finish();
}

/// Time per call of `f`, over `iterations` calls.
fn time_per_call<T>(iterations: u32, mut f: impl FnMut() -> T) -> Duration {
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(f());
    }
    start.elapsed() / iterations
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Alternates short rounds of the baseline and the operation, at both lengths,
/// and prints the median ratios: per operation at each length, and per poll
/// (the extra cost of the longer operation over the extra polls, so set-up
/// cancels out).
fn interleaved_ratios() {
    const ROUNDS: usize = 31;
    const WORK: usize = 8_000; // polls per timed batch
    let [short, long] = POLLS;
    let scripts = POLLS.map(script);
    let mut hand = [vec![], vec![]];
    let mut ours = [vec![], vec![]];
    for _ in 0..ROUNDS {
        for (index, answers) in scripts.iter().enumerate() {
            let iterations = (WORK / POLLS[index]) as u32;
            hand[index].push(time_per_call(iterations, || run_hand_written(answers)));
            ours[index].push(time_per_call(iterations, || run_operation(answers)));
        }
    }
    let per_round = |f: &dyn Fn(usize) -> f64| median((0..ROUNDS).map(f).collect());
    let verdict = |ratio: f64| if ratio <= 1.25 { "holds" } else { "missed" };
    for (index, polls) in POLLS.into_iter().enumerate() {
        let ratio = per_round(&|r| ours[index][r].as_secs_f64() / hand[index][r].as_secs_f64());
        let op = per_round(&|r| ours[index][r].as_secs_f64() * 1e6);
        let base = per_round(&|r| hand[index][r].as_secs_f64() * 1e6);
        println!(
            "ratio per operation of {polls} polls: operation {op:.2} µs / hand-written {base:.2} µs = {ratio:.3}x"
        );
    }
    let extra = (long - short) as f64;
    let marginal = |times: &[Vec<Duration>; 2], r: usize| {
        (times[1][r].as_secs_f64() - times[0][r].as_secs_f64()) / extra
    };
    let ratio = per_round(&|r| marginal(&ours, r) / marginal(&hand, r));
    let op = per_round(&|r| marginal(&ours, r) * 1e9);
    let base = per_round(&|r| marginal(&hand, r) * 1e9);
    println!(
        "ratio per poll: operation {op:.0} ns / hand-written {base:.0} ns = {ratio:.3}x (target <= 1.25x: {})",
        verdict(ratio)
    );
}

fn main() {
    let mut criterion = support::criterion(Duration::from_secs(2));
    benches(&mut criterion);
    criterion.final_summary();
    if support::measuring() {
        interleaved_ratios();
    }
}
