//! Properties of the progress-aware backoff, on any input a server or a clock
//! can produce.

use std::time::Duration;

use lro_poller::policy::{
    Backoff, BackoffBuilder, ExponentialBuilder, PollContext, ProgressBuilder,
};
use lro_poller::{AsyncJobStatus, JobState};
use proptest::prelude::*;

/// The delay of a backoff that never stops.
trait NextDelay {
    fn next_delay(&mut self, ctx: &PollContext<'_>) -> Duration;
}

impl<B: Backoff> NextDelay for B {
    fn next_delay(&mut self, ctx: &PollContext<'_>) -> Duration {
        self.next(ctx).delay().expect("a delay")
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Any value a `percentageComplete` could hold, sane or not, or none.
fn percent() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        4 => (0.0..=100.0f64).prop_map(Some),
        1 => Just(None),
        1 => any::<f64>().prop_map(Some),
        1 => prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(-1.0),
            Just(-0.0),
            Just(100.0),
            Just(100.5),
            Just(f64::MAX),
            Just(f64::MIN_POSITIVE),
        ]
        .prop_map(Some),
    ]
}

/// Any elapsed time: usual ones, huge ones, the extremes.
fn elapsed() -> impl Strategy<Value = Duration> {
    prop_oneof![
        4 => (0u64..100_000_000).prop_map(Duration::from_millis),
        1 => (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
        1 => Just(Duration::ZERO),
        1 => Just(Duration::MAX),
    ]
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        4 => (0u64..3_600_000).prop_map(Duration::from_millis),
        1 => Just(Duration::MAX),
        1 => Just(Duration::ZERO),
    ]
}

#[derive(Debug, Clone)]
struct Step {
    elapsed: Duration,
    percent: Option<f64>,
    attempt: u32,
    failures: u32,
    retry_after: Option<Duration>,
}

/// A poll's worth of input; elapsed times come in any order.
fn step() -> impl Strategy<Value = Step> {
    (
        elapsed(),
        percent(),
        prop_oneof![0u32..100, Just(u32::MAX), any::<u32>()],
        prop_oneof![4 => Just(0u32), 1 => 1u32..5],
        proptest::option::of(duration()),
    )
        .prop_map(|(elapsed, percent, attempt, failures, retry_after)| Step {
            elapsed,
            percent,
            attempt,
            failures,
            retry_after,
        })
}

fn status(percent: Option<f64>) -> AsyncJobStatus {
    let mut status = AsyncJobStatus::new(JobState::InProgress);
    status.percentage_complete = percent;
    status
}

fn context<'a>(step: &Step, status: &'a AsyncJobStatus) -> PollContext<'a> {
    let mut ctx = PollContext::new(step.attempt, step.elapsed);
    ctx.last_status = Some(status);
    ctx.consecutive_failures = step.failures;
    ctx.retry_after = step.retry_after;
    ctx
}

/// A context after `attempt` polls, `elapsed` in, with this status.
fn read(attempt: u32, elapsed: Duration, status: &AsyncJobStatus) -> PollContext<'_> {
    let mut ctx = PollContext::new(attempt, elapsed);
    ctx.last_status = Some(status);
    ctx
}

/// Delays within `[min, max]` and a deterministic fallback, for comparisons.
fn bounded(min: Duration, max: Duration, fallback: ExponentialBuilder) -> impl Backoff {
    config(min, max, fallback).build()
}

fn config(min: Duration, max: Duration, fallback: ExponentialBuilder) -> ProgressBuilder {
    ProgressBuilder::new()
        .with_min_delay(min)
        .with_max_delay(max)
        .with_fallback(fallback)
}

fn fallback() -> impl Strategy<Value = ExponentialBuilder> {
    (duration(), 1.0..4.0f64, duration())
        .prop_map(|(initial, factor, cap)| ExponentialBuilder::new(initial, factor, cap))
}

/// Increasing elapsed times (seconds) from 0.
fn times(len: usize) -> impl Strategy<Value = Vec<u64>> {
    proptest::collection::vec(1u64..600, len).prop_map(|gaps| {
        gaps.iter()
            .scan(0u64, |t, gap| {
                *t += gap;
                Some(*t)
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Never below the minimum, never above the maximum (the server's
    /// `Retry-After` is the policy's to add); whatever the reports, the
    /// clock and the settings.
    #[test]
    fn delays_respect_min_and_max(
        min in 0u64..120_000,
        extra in 0u64..600_000,
        fallback in fallback(),
        slack in any::<f64>(),
        reach in any::<f64>(),
        smoothing in any::<f64>(),
        window in any::<usize>(),
        steps in proptest::collection::vec(step(), 1..24),
    ) {
        let min = Duration::from_millis(min);
        let max = min + Duration::from_millis(extra);
        let backoff = config(min, max, fallback)
            .with_slack(slack)
            .with_reach(reach)
            .with_smoothing(smoothing)
            .with_window(window);
        let mut backoff = backoff.build();
        for step in &steps {
            let status = status(step.percent);
            let delay = backoff.next_delay(&context(step, &status));
            prop_assert!(delay >= min, "{delay:?} < min {min:?}");
            prop_assert!(delay <= max, "{delay:?} > max {max:?}");
        }
    }

    /// The backoff alone stays within `[min, max]`, and its prediction (when
    /// it has one) is a real time, on any input.
    #[test]
    fn never_panics_and_stays_in_bounds(
        min in duration(),
        max in duration(),
        steps in proptest::collection::vec(step(), 1..32),
    ) {
        let mut backoff = ProgressBuilder::new().with_min_delay(min).with_max_delay(max).build();
        for step in &steps {
            let status = status(step.percent);
            let delay = backoff.next_delay(&context(step, &status));
            prop_assert!(delay <= max);
            prop_assert!(delay >= min.min(max));
        }
    }

    /// No `percentageComplete` at all: exactly the fallback's delays.
    #[test]
    fn missing_progress_is_the_fallback(
        fallback in fallback(),
        steps in proptest::collection::vec(step(), 1..16),
    ) {
        let (min, max) = (secs(1), secs(60));
        let mut backoff = bounded(min, max, fallback);
        let mut mirror = fallback.build();
        for step in &steps {
            let status = status(None);
            let ctx = context(step, &status);
            let expected = mirror.next_delay(&ctx).clamp(min, max);
            prop_assert_eq!(backoff.next_delay(&ctx), expected);
        }
    }

    /// The same percentage over and over: the fallback's delays.
    #[test]
    fn flat_progress_is_the_fallback(
        fallback in fallback(),
        value in 0.0..=100.0f64,
        times in times(12),
    ) {
        let (min, max) = (secs(1), secs(60));
        let mut backoff = bounded(min, max, fallback);
        let mut mirror = fallback.build();
        let status = status(Some(value));
        for (attempt, t) in times.iter().enumerate() {
            let ctx = read(attempt as u32 + 1, secs(*t), &status);
            let expected = mirror.next_delay(&ctx).clamp(min, max);
            prop_assert_eq!(backoff.next_delay(&ctx), expected);
        }
    }

    /// Progress that only goes down: the fallback's delays.
    #[test]
    fn decreasing_progress_is_the_fallback(
        fallback in fallback(),
        start in 50.0..=100.0f64,
        drops in proptest::collection::vec(0.0..5.0f64, 12),
        times in times(12),
    ) {
        let (min, max) = (secs(1), secs(60));
        let mut backoff = bounded(min, max, fallback);
        let mut mirror = fallback.build();
        let mut value = start;
        for (attempt, (t, drop)) in times.iter().zip(&drops).enumerate() {
            value -= drop;
            let status = status(Some(value));
            let ctx = read(attempt as u32 + 1, secs(*t), &status);
            let expected = mirror.next_delay(&ctx).clamp(min, max);
            prop_assert_eq!(backoff.next_delay(&ctx), expected);
        }
    }

    /// Steady progress: the next poll lands at the completion, or as far as
    /// the reach allows (30× the time run so far).
    #[test]
    fn steady_progress_is_polled_at_completion(
        duration in 10.0..100_000.0f64,
        fraction in 0.001..0.99f64,
    ) {
        let mut backoff = ProgressBuilder::new()
            .with_slack(0.0)
            .with_min_delay(Duration::ZERO)
            .with_max_delay(Duration::MAX)
            .build();
        let start = status(Some(0.0));
        backoff.next_delay(&read(1, Duration::ZERO, &start));
        let t = duration * fraction;
        let report = status(Some(100.0 * fraction));
        let delay = backoff
            .next_delay(&read(2, Duration::from_secs_f64(t), &report))
            .as_secs_f64();
        let expected = (duration - t).min(30.0 * t);
        prop_assert!((delay - expected).abs() <= 1e-6 * duration, "{delay} vs {expected}");
    }

    /// Time going backwards drops the history: the fallback decides.
    #[test]
    fn time_going_backwards_is_the_fallback(
        fallback in fallback(),
        times in times(6),
        back in 1u64..600,
    ) {
        let (min, max) = (secs(1), secs(60));
        let mut backoff = bounded(min, max, fallback);
        for (i, t) in times.iter().enumerate() {
            let report = status(Some(10.0 + i as f64));
            backoff.next_delay(&read(i as u32 + 1, secs(*t), &report));
        }
        let last = times.last().copied().unwrap_or_default();
        let ctx_status = status(Some(50.0));
        let ctx = read(7, secs(last.saturating_sub(back)), &ctx_status);
        let mut mirror = fallback.build();
        let expected = mirror.next_delay(&ctx).clamp(min, max);
        prop_assert_eq!(backoff.next_delay(&ctx), expected);
    }
}
