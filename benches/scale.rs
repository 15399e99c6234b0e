//! Scale: a million operations in flight at once on one tokio runtime.
//!
//! Every operation polls an in-memory transport that answers at once (three
//! `inProgress` answers, then `completed`) with the default policies, on
//! tokio's paused clock (`TokioTimer`; the runtime jumps the clock forward
//! whenever every task is asleep), so the run measures the crate and tokio, not
//! the network or the wall clock. All operations are built and spawned before
//! any runs, and each sleeps between polls, so all of them are in flight at
//! once; the bench counts how many were at the peak.
//!
//! It prints the total time, the peak RSS (`VmHWM`) and the RSS per operation
//! (the peak less the RSS before the first operation was built, divided by the
//! number of operations). `LRO_SCALE_OPS` sets the number (default 1,000,000).
//!
//! Run: `cargo bench --bench scale --features tokio`

mod support;

use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use support::{InMemory, MONITOR};

use lro_poller::Operation;
use lro_poller::timer::TokioTimer;

const POLLS: usize = 4;

static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static PEAK_IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// A field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`); 0 where there is
/// no such file.
fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                let rest = line.strip_prefix(field)?.strip_prefix(':')?;
                rest.trim().trim_end_matches("kB").trim().parse().ok()
            })
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|arg| arg == "--list") {
        return;
    }
    // `cargo bench` passes `--bench`; without it (`cargo test --benches`) a
    // small run checks that the bench works.
    let quick = !args.iter().any(|arg| arg == "--bench");
    let count: usize = match std::env::var("LRO_SCALE_OPS") {
        Ok(value) => value.parse().expect("LRO_SCALE_OPS is a number"),
        Err(_) if quick => 10_000,
        Err(_) => 1_000_000,
    };

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let answers = support::script(POLLS);

    let rss_before_kib = proc_status_kib("VmRSS");
    let started = Instant::now();
    let (spawned_in, completed, polls, virtual_elapsed) = runtime.block_on(async {
        let clock_start = tokio::time::Instant::now();
        let mut handles = Vec::with_capacity(count);
        for _ in 0..count {
            let transport = InMemory::new(&answers);
            let operation = Operation::monitor(transport, MONITOR)
                .with_timer(TokioTimer::new())
                .build()
                .expect("a valid set-up");
            // Box the outcome future first: the task then holds a pointer,
            // not a second copy of the operation.
            let outcome = operation.into_future();
            handles.push(tokio::spawn(async move {
                let now = IN_FLIGHT.fetch_add(1, Ordering::Relaxed) + 1;
                PEAK_IN_FLIGHT.fetch_max(now, Ordering::Relaxed);
                let result = outcome.await;
                IN_FLIGHT.fetch_sub(1, Ordering::Relaxed);
                result.map(|outcome| outcome.polls())
            }));
        }
        let spawned_in = started.elapsed();
        let mut completed = 0usize;
        let mut polls = 0u64;
        for handle in handles {
            if let Ok(Ok(sent)) = handle.await {
                completed += 1;
                polls += u64::from(sent);
            }
        }
        (spawned_in, completed, polls, clock_start.elapsed())
    });
    let total = started.elapsed();
    let peak_kib = proc_status_kib("VmHWM");
    let grown_bytes = peak_kib.saturating_sub(rss_before_kib) * 1024;
    let per_op = grown_bytes as f64 / count as f64;

    println!(
        "operations: {count}, each {POLLS} polls (default policies, TokioTimer on a paused clock)"
    );
    println!(
        "completed: {completed}; polls sent: {polls}; most in flight at once: {}",
        PEAK_IN_FLIGHT.load(Ordering::Relaxed)
    );
    println!(
        "total time: {:.2} s (building and spawning {:.2} s, polling to the end {:.2} s); \
         {:.2} µs per operation; {:.0} polls/s; virtual time passed: {:.1} s",
        total.as_secs_f64(),
        spawned_in.as_secs_f64(),
        (total - spawned_in).as_secs_f64(),
        total.as_secs_f64() * 1e6 / count as f64,
        polls as f64 / (total - spawned_in).as_secs_f64(),
        virtual_elapsed.as_secs_f64(),
    );
    println!(
        "RSS before: {:.1} MiB; peak RSS (VmHWM): {:.1} MiB; RSS per operation: {per_op:.0} B \
         (target <= 2048 B: {})",
        rss_before_kib as f64 / 1024.0,
        peak_kib as f64 / 1024.0,
        if completed == count && per_op <= 2048.0 {
            "holds"
        } else {
            "missed"
        }
    );
}
