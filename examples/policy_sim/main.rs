//! Measures polling policies against each other on virtual time: the crate's
//! default against each peer SDK's default, modelled as its source does it
//! (see `models.rs`).
//!
//! ```sh
//! cargo run --release --example policy_sim --features test-util [-- --jobs N] [--write DIR]
//! ```
//!
//! It prints a summary and the verdict per workload; `--write docs` also
//! writes the full tables (`docs/polling-efficiency.md`) and the picture
//! (`docs/polling-efficiency.svg`).
//!
//! Every job is started and polled by the real [`Operation`]
//! ([`Operation::start`]) on a [`VirtualTimer`]; the service is a [`Transport`]
//! that answers the start request with `202 Accepted` and a `Location` (not
//! counted as a poll) and the monitor from the virtual clock: a job with a
//! true duration and a progress curve answers `inProgress` with its
//! `percentageComplete` (rounded to 0.1, as Graph does, and at most 99.9 while
//! running) until the duration has passed, then `completed`. Per job it
//! records the number of polls and the detection delay: the time from the
//! true completion to the poll that saw it. Everything is seeded: two runs
//! print the same tables.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use lro_poller::testing::VirtualTimer;
use lro_poller::{Operation, Transport, TransportError};

mod models;
mod report;
mod svg;

use models::Model;

/// Jobs per workload unless `--jobs N` says otherwise.
const DEFAULT_JOBS: usize = 1000;
/// The overall deadline every policy runs with: long enough for the long tail.
const DEADLINE: Duration = Duration::from_secs(24 * 3600);
/// The `Retry-After` (seconds) the server sends in the workloads that send one.
const SERVER_RETRY_AFTER: u64 = 10;
const SEED: u64 = 0x5EED_4A34;
/// Where the simulated service is asked to start a job.
const START_URL: &str = "https://sim.example/jobs";
/// The monitor its `202 Accepted` points to.
const MONITOR_URL: &str = "https://sim.example/monitor/1";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Durations {
    LogNormal,
    Uniform,
    LongTail,
}

impl Durations {
    const ALL: [Durations; 3] = [
        Durations::LogNormal,
        Durations::Uniform,
        Durations::LongTail,
    ];

    fn label(self) -> &'static str {
        match self {
            Durations::LogNormal => "lognormal durations (median 30 s, σ 1)",
            Durations::Uniform => "uniform durations (1–600 s)",
            Durations::LongTail => "long tail (lognormal; 5% of jobs 1–4 h)",
        }
    }

    /// The true duration of job `index`, in seconds: the same job in every
    /// workload with these durations, whatever the progress curve or policy.
    fn sample(self, index: usize) -> f64 {
        let mut rng = fastrand::Rng::with_seed(mix(SEED, self as u64, index as u64));
        let lognormal = |rng: &mut fastrand::Rng| 30.0 * standard_normal(rng).exp();
        match self {
            Durations::LogNormal => lognormal(&mut rng),
            Durations::Uniform => 1.0 + 599.0 * rng.f64(),
            Durations::LongTail => {
                if rng.f64() < 0.05 {
                    3600.0 + 3.0 * 3600.0 * rng.f64()
                } else {
                    lognormal(&mut rng)
                }
            }
        }
    }
}

/// A standard normal deviate (Box–Muller).
fn standard_normal(rng: &mut fastrand::Rng) -> f64 {
    let u1 = 1.0 - rng.f64(); // (0, 1]: ln is finite
    let u2 = rng.f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A seed from a few numbers (splitmix64 finaliser).
fn mix(a: u64, b: u64, c: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ c.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Progress {
    Linear,
    Noisy,
    SShaped,
    Stalled,
    Absent,
}

impl Progress {
    const ALL: [Progress; 5] = [
        Progress::Linear,
        Progress::Noisy,
        Progress::SShaped,
        Progress::Stalled,
        Progress::Absent,
    ];

    fn label(self) -> &'static str {
        match self {
            Progress::Linear => "linear progress",
            Progress::Noisy => "linear progress ±10% noise",
            Progress::SShaped => "S-shaped progress",
            Progress::Stalled => "stalled-then-resumed progress",
            Progress::Absent => "no progress reported",
        }
    }

    /// The percentage reported at fraction `x` of the job (0 ≤ x < 1).
    fn report(self, x: f64, rng: &mut fastrand::Rng) -> Option<f64> {
        let p = match self {
            Progress::Linear => 100.0 * x,
            // Each report off by up to ±10% of its value, independently.
            Progress::Noisy => 100.0 * x * (1.0 + 0.2 * (rng.f64() - 0.5)),
            // Smoothstep: slow start, fast middle, slow end.
            Progress::SShaped => 100.0 * x * x * (3.0 - 2.0 * x),
            // Runs to 50% in the first 30% of the time, sits at 50% for 40%,
            // then runs to the end at the same speed.
            Progress::Stalled => {
                if x < 0.3 {
                    x / 0.6 * 100.0
                } else if x < 0.7 {
                    50.0
                } else {
                    50.0 + (x - 0.7) / 0.6 * 100.0
                }
            }
            Progress::Absent => return None,
        };
        Some((p.clamp(0.0, 99.9) * 10.0).round() / 10.0)
    }
}

/// The simulated monitor of one job.
struct Monitor {
    timer: VirtualTimer,
    duration: Duration,
    progress: Progress,
    retry_after: Option<u64>,
    /// Whether the start answer carries the `Retry-After` too.
    start_retry_after: bool,
    state: Mutex<MonitorState>,
}

struct MonitorState {
    rng: fastrand::Rng,
    polls: u32,
    seen_at: Option<Duration>,
}

impl Monitor {
    fn state(&self) -> MutexGuard<'_, MonitorState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Transport for Monitor {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let now = self.timer.elapsed();
        if request.method() == http::Method::POST {
            // The request that starts the job: not a poll.
            let mut response = http::Response::new(Bytes::new());
            *response.status_mut() = http::StatusCode::ACCEPTED;
            response.headers_mut().insert(
                http::header::LOCATION,
                http::HeaderValue::from_static(MONITOR_URL),
            );
            if let Some(seconds) = self.retry_after.filter(|_| self.start_retry_after) {
                response
                    .headers_mut()
                    .insert(http::header::RETRY_AFTER, seconds.into());
            }
            return Ok(response);
        }
        let mut state = self.state();
        state.polls += 1;
        let mut response = if now >= self.duration {
            state.seen_at.get_or_insert(now);
            http::Response::new(Bytes::from_static(
                br#"{"status":"completed","percentageComplete":100}"#,
            ))
        } else {
            let x = now.as_secs_f64() / self.duration.as_secs_f64();
            let body = match self.progress.report(x, &mut state.rng) {
                Some(p) => format!(r#"{{"status":"inProgress","percentageComplete":{p:.1}}}"#),
                None => r#"{"status":"inProgress"}"#.to_owned(),
            };
            let mut response = http::Response::new(Bytes::from(body));
            *response.status_mut() = http::StatusCode::ACCEPTED;
            if let Some(seconds) = self.retry_after {
                response
                    .headers_mut()
                    .insert(http::header::RETRY_AFTER, seconds.into());
            }
            response
        };
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        Ok(response)
    }
}

/// One job's result.
#[derive(Debug, Clone, Copy)]
struct Run {
    polls: u32,
    /// Seconds from true completion to the poll that saw it; `None` if the
    /// policy gave up first.
    delay: Option<f64>,
}

fn simulate(
    duration: f64,
    progress: Progress,
    retry_after: Option<u64>,
    model: Model,
    seed: u64,
    noise: u64,
) -> Run {
    let timer =
        VirtualTimer::with_wall_clock(SystemTime::UNIX_EPOCH + Duration::from_secs(1 << 30));
    let duration = Duration::from_secs_f64(duration);
    let monitor = Arc::new(Monitor {
        timer: timer.clone(),
        duration,
        progress,
        retry_after,
        start_retry_after: model.reads_start_retry_after(),
        state: Mutex::new(MonitorState {
            rng: fastrand::Rng::with_seed(noise),
            polls: 0,
            seen_at: None,
        }),
    });
    let start = http::Request::post(START_URL)
        .body(Bytes::new())
        .expect("a valid request");
    // Jitter and Smithy's draws come from the thread's generator when the
    // operation is built: seed it, for reproducible runs.
    fastrand::seed(seed);
    let operation = Operation::start(Arc::clone(&monitor), start)
        .with_timer(timer)
        .with_policy(model.policy(DEADLINE))
        .build();
    if let Ok(mut operation) = operation {
        futures::executor::block_on(async { while let Some(Ok(_)) = operation.next().await {} });
    }
    let state = monitor.state();
    Run {
        polls: state.polls,
        delay: state
            .seen_at
            .map(|seen| seen.saturating_sub(duration).as_secs_f64()),
    }
}

#[derive(Debug, Clone, Copy)]
struct Summary {
    polls: f64,
    mean_delay: f64,
    p95_delay: f64,
    gave_up: usize,
}

fn summarise(runs: &[Run]) -> Summary {
    let n = runs.len().max(1) as f64;
    let polls = runs.iter().map(|r| f64::from(r.polls)).sum::<f64>() / n;
    let mut delays: Vec<f64> = runs.iter().filter_map(|r| r.delay).collect();
    delays.sort_by(f64::total_cmp);
    let mean_delay = delays.iter().sum::<f64>() / delays.len().max(1) as f64;
    let p95_delay = match delays.len() {
        0 => f64::NAN,
        len => delays[(len * 95).div_ceil(100).clamp(1, len) - 1],
    };
    Summary {
        polls,
        mean_delay,
        p95_delay,
        gave_up: runs.len() - delays.len(),
    }
}

#[derive(Debug, Clone, Copy)]
struct Workload {
    durations: Durations,
    progress: Progress,
    retry_after: Option<u64>,
}

impl Workload {
    fn all() -> Vec<Workload> {
        let mut all = Vec::new();
        for durations in Durations::ALL {
            for retry_after in [None, Some(SERVER_RETRY_AFTER)] {
                for progress in Progress::ALL {
                    all.push(Workload {
                        durations,
                        progress,
                        retry_after,
                    });
                }
            }
        }
        all
    }

    fn title(&self) -> String {
        let hint = match self.retry_after {
            None => "no Retry-After".to_owned(),
            Some(s) => format!("Retry-After: {s}"),
        };
        format!(
            "{} · {} · {hint}",
            self.durations.label(),
            self.progress.label()
        )
    }

    fn run(&self, jobs: usize) -> Vec<Summary> {
        Model::ALL
            .iter()
            .enumerate()
            .map(|(p, &model)| {
                let runs: Vec<Run> = (0..jobs)
                    .map(|i| {
                        let duration = self.durations.sample(i);
                        let seed = mix(SEED ^ self.progress as u64, p as u64, i as u64);
                        let noise = mix(SEED, self.progress as u64 + 17, i as u64);
                        simulate(
                            duration,
                            self.progress,
                            self.retry_after,
                            model,
                            seed,
                            noise,
                        )
                    })
                    .collect();
                summarise(&runs)
            })
            .collect()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| args.iter().skip_while(|a| *a != flag).nth(1).cloned();
    let jobs = value("--jobs")
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_JOBS);
    let write = value("--write").map(std::path::PathBuf::from);
    let workloads = Workload::all();
    // Two threads, workloads interleaved between them.
    let threads = 2;
    let mut results: Vec<Option<Vec<Summary>>> = vec![None; workloads.len()];
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let workloads = &workloads;
                scope.spawn(move || {
                    workloads
                        .iter()
                        .enumerate()
                        .skip(k)
                        .step_by(threads)
                        .map(|(i, w)| (i, w.run(jobs)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            if let Ok(done) = handle.join() {
                for (i, summary) in done {
                    results[i] = Some(summary);
                }
            }
        }
    });
    let results: Vec<Vec<Summary>> = results.into_iter().map(Option::unwrap_or_default).collect();

    print!("{}", report::summary(jobs, &workloads, &results));
    print!("{}", report::verdicts(&workloads, &results));
    print!("{}", report::targets(&workloads, &results));
    if let Some(dir) = write {
        let tables = report::full(jobs, &workloads, &results);
        let svg = svg::scatter(&workloads, &results);
        let written = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(dir.join("polling-efficiency.md"), tables))
            .and_then(|()| std::fs::write(dir.join("polling-efficiency.svg"), svg));
        match written {
            Ok(()) => println!("\nwrote {}/polling-efficiency.{{md,svg}}", dir.display()),
            Err(error) => {
                eprintln!("cannot write to {}: {error}", dir.display());
                std::process::exit(1);
            }
        }
    }
}
