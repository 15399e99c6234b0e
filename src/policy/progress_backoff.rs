//! The progress-aware backoff's running state: [`ProgressBackoff`], one job's
//! recent progress reports, the weighted fit through them and the prediction.

use std::sync::Arc;
use std::time::Duration;

use super::backoff::{Backoff, BackoffBuilder, Step, read_state, scale, write_state};
use super::context::PollContext;
use super::jitter::{Jitter, apply_jitter};
use super::progress::{Config, MIN_SAMPLES, ProgressBuilder};
use super::shapes::ExponentialBuilder;

/// Percentage points a job may seem to have done at elapsed zero and keep its
/// anchor (reports are often rounded to whole or tenth points).
const ANCHOR_TOLERANCE: f64 = 1.0;

/// How much of the first report a job may seem to have done at elapsed zero
/// and keep its anchor.
const ANCHOR_SHARE: f64 = 0.8;

/// How many of the reports' scatters (the weighted spread of the reports
/// around the fit, in seconds) to poll before the predicted completion.
const SCATTER_MARGIN: f64 = 1.0;

/// How much faster than the fitted rate the latest interval must be for its
/// own, earlier, prediction to be taken instead.
const SPEED_UP: f64 = 1.5;

/// The default fallback's shape: exponential from 1 s by ×1.5 up to 30 s, with
/// equal jitter.
const DEFAULT_FALLBACK: ExponentialBuilder =
    ExponentialBuilder::const_new(Duration::from_secs(1), 1.5, Duration::from_secs(30));

/// A [`ProgressBuilder`] backoff's running state for one operation: the recent
/// progress reports and the prediction made from them.
#[derive(Debug)]
pub struct ProgressBackoff {
    config: Arc<Config>,
    samples: Vec<Sample>,
    /// When the last prediction aimed to poll (seconds); NaN: none.
    aimed_at: f64,
    overdue: u32,
    /// The front sample is the anchor (0 s, 0%), not a report.
    anchored: bool,
    /// The anchor was found inconsistent with the reports: never again.
    anchor_dropped: bool,
    fallback: Fallback,
}

/// The backoff used when progress says nothing: the default one inline (a
/// random generator for its jitter), or the caller's.
#[derive(Debug)]
enum Fallback {
    Default(fastrand::Rng),
    Custom(Box<dyn Backoff>),
}

impl Fallback {
    fn next(&mut self, ctx: &PollContext<'_>) -> Step {
        match self {
            Fallback::Default(rng) => {
                let delay = DEFAULT_FALLBACK.delay(ctx.attempt);
                Step::Wait(apply_jitter(Jitter::Equal, rng, delay, None))
            }
            Fallback::Custom(backoff) => backoff.next(ctx),
        }
    }
}

/// One progress report: seconds since the start, percent complete.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
struct Sample {
    t: f64,
    p: f64,
}

/// What a [`ProgressBackoff`] keeps in a token: the reports its fit uses (at
/// most the window), the prediction's state, and the fallback's state.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct SavedProgress {
    samples: Vec<Sample>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aimed_at: Option<f64>,
    #[serde(default)]
    overdue: u32,
    #[serde(default)]
    anchored: bool,
    #[serde(default)]
    anchor_dropped: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fallback: Option<serde_json::Value>,
}

impl Fallback {
    fn save(&self) -> Option<serde_json::Value> {
        match self {
            Fallback::Default(rng) => write_state(&rng.get_seed()),
            Fallback::Custom(backoff) => backoff.save_state(),
        }
    }

    fn restore(&mut self, saved: &serde_json::Value) {
        match self {
            Fallback::Default(rng) => {
                if let Some(seed) = read_state::<u64>(saved) {
                    rng.seed(seed);
                }
            }
            Fallback::Custom(backoff) => {
                backoff.restore_state(saved);
            }
        }
    }
}

impl BackoffBuilder for ProgressBuilder {
    type Backoff = ProgressBackoff;

    fn build(&self) -> ProgressBackoff {
        let fallback = match self.settings().fallback() {
            None => Fallback::Default(fastrand::Rng::new()),
            Some(builder) => Fallback::Custom(builder.build_boxed()),
        };
        ProgressBackoff {
            config: Arc::clone(self.settings()),
            samples: Vec::new(),
            aimed_at: f64::NAN,
            overdue: 0,
            anchored: false,
            anchor_dropped: false,
            fallback,
        }
    }
}

impl ProgressBackoff {
    /// When the job is predicted to reach 100%, as time since the operation
    /// started, from the reports seen so far; `None` when progress cannot be
    /// trusted (see the type's documentation).
    pub fn predicted_completion(&self) -> Option<Duration> {
        let (secs, _) = self.predict()?;
        Some(scale(Duration::from_secs(1), secs))
    }

    fn clamp(&self, delay: Duration) -> Duration {
        delay.max(self.config.min()).min(self.config.max())
    }

    /// Records the progress in `ctx`; returns whether it is a usable report.
    fn record(&mut self, ctx: &PollContext<'_>) -> bool {
        if ctx.consecutive_failures > 0 {
            return false;
        }
        let Some(p) = ctx
            .last_status
            .and_then(|status| status.percentage_complete)
        else {
            return false;
        };
        if !(0.0..=100.0).contains(&p) {
            return false;
        }
        let t = ctx.elapsed.as_secs_f64();
        match self.samples.last_mut() {
            Some(last) if t < last.t => {
                self.samples.clear();
                self.anchored = false;
                self.anchor_dropped = true;
            }
            // Asked twice at the same instant: keep the newer report.
            Some(last) if t == last.t => {
                last.p = p;
                return true;
            }
            _ => {}
        }
        if self.samples.is_empty() {
            // One allocation of the window's size, for the operation's life.
            self.samples.reserve_exact(self.config.window());
        }
        if self.samples.is_empty() && ctx.from_job_start && !self.anchor_dropped && t > 0.0 {
            self.samples.push(Sample { t: 0.0, p: 0.0 });
            self.anchored = true;
        }
        if self.samples.len() >= self.config.window() {
            self.samples.remove(0);
            self.anchored = false;
        }
        self.samples.push(Sample { t, p });
        self.check_anchor();
        true
    }

    /// Drops the anchor when the first two reports say the job was already
    /// well along at elapsed zero: the line through them meets zero elapsed
    /// above 80% of the first report.
    fn check_anchor(&mut self) {
        if !self.anchored || self.samples.len() != 3 {
            return;
        }
        let (Some(first), Some(last)) = (self.samples.get(1), self.samples.last()) else {
            return;
        };
        if last.p <= first.p || last.t <= first.t {
            return;
        }
        let rate = (last.p - first.p) / (last.t - first.t);
        let at_zero = first.p - rate * first.t;
        if at_zero > (ANCHOR_SHARE * first.p).max(ANCHOR_TOLERANCE) {
            self.samples.remove(0);
            self.anchored = false;
            self.anchor_dropped = true;
        }
    }

    /// Seconds since the start at which the weighted fit reaches 100%.
    /// The time the fit reaches 100%, and how far the reports scatter
    /// around the fit, in seconds at the fitted rate.
    fn predict(&self) -> Option<(f64, f64)> {
        if self.samples.len() < MIN_SAMPLES {
            return None;
        }
        let first = self.samples.first()?;
        let last = self.samples.last()?;
        if last.p <= first.p {
            return None;
        }
        let newest = self.samples.len() - 1;
        let weight = |i: usize| {
            let age = i32::try_from(newest - i).unwrap_or(i32::MAX);
            self.config.smoothing().powi(age)
        };
        // Centre time on the newest report so large elapsed values keep their
        // precision.
        let (mut sw, mut st, mut sp) = (0.0, 0.0, 0.0);
        for (i, s) in self.samples.iter().enumerate() {
            let w = weight(i);
            sw += w;
            st += w * (s.t - last.t);
            sp += w * s.p;
        }
        let (tm, pm) = (st / sw, sp / sw);
        let (mut stt, mut stp) = (0.0, 0.0);
        for (i, s) in self.samples.iter().enumerate() {
            let w = weight(i);
            let dt = s.t - last.t - tm;
            stt += w * dt * dt;
            stp += w * dt * (s.p - pm);
        }
        let rate = stp / stt;
        if !rate.is_finite() || rate <= 0.0 {
            return None;
        }
        let mut residuals = 0.0;
        for (i, s) in self.samples.iter().enumerate() {
            let off = s.p - (pm + rate * (s.t - last.t - tm));
            residuals += weight(i) * off * off;
        }
        let mut spread = (residuals / sw).sqrt() / rate;
        let mut at = last.t + tm + (100.0 - pm) / rate;
        // With a single interval the fit is that interval: nothing to compare.
        let previous = self
            .samples
            .get(newest - 1)
            .filter(|_| newest >= MIN_SAMPLES);
        if let Some(previous) = previous {
            let recent = (last.p - previous.p) / (last.t - previous.t);
            if recent > rate * SPEED_UP {
                // A change of pace, not noise: the scatter says nothing
                // about the latest interval's own prediction.
                at = at.min(last.t + (100.0 - last.p) / recent);
                spread = 0.0;
            }
        }
        (at.is_finite() && spread.is_finite()).then_some((at, spread))
    }
}

impl Backoff for ProgressBackoff {
    fn next(&mut self, ctx: &PollContext<'_>) -> Step {
        let usable = self.record(ctx);
        let predicted = if usable { self.predict() } else { None };
        let Some((at, spread)) = predicted else {
            self.aimed_at = f64::NAN;
            self.overdue = 0;
            return match self.fallback.next(ctx) {
                Step::Wait(delay) => Step::Wait(self.clamp(delay)),
                stop => stop,
            };
        };
        let now = ctx.elapsed.as_secs_f64();
        // Polled at or after the moment aimed at, and the job still runs: the
        // prediction was early. Search outwards from `min` so that a job
        // sitting at 99% costs a few polls, not one every `min`.
        let missed = now + 1e-3 >= self.aimed_at; // false while NaN
        self.overdue = if missed {
            self.overdue.saturating_add(1)
        } else {
            0
        };
        // Aim earlier by the reports' scatter: a noisy report that makes the
        // line late costs the caller's time; an early poll costs one poll.
        let at = at - SCATTER_MARGIN * spread;
        self.aimed_at = at;
        let config = &self.config;
        let remaining = ((at - now) * (1.0 + config.slack())).min(now * config.reach());
        let remaining = scale(Duration::from_secs(1), remaining);
        let search = match self.overdue {
            0 => Duration::ZERO,
            n => scale(
                config.min(),
                2f64.powi(n.saturating_sub(1).min(1024) as i32),
            ),
        };
        Step::Wait(self.clamp(remaining.max(search)))
    }

    fn save_state(&self) -> Option<serde_json::Value> {
        write_state(&SavedProgress {
            samples: self.samples.clone(),
            aimed_at: Some(self.aimed_at).filter(|at| at.is_finite()),
            overdue: self.overdue,
            anchored: self.anchored,
            anchor_dropped: self.anchor_dropped,
            fallback: self.fallback.save(),
        })
    }

    fn restore_state(&mut self, saved: &serde_json::Value) -> bool {
        let Some(saved) = read_state::<SavedProgress>(saved) else {
            return false;
        };
        // Untrusted input: only reports that could have been recorded, and
        // no more than the window.
        let valid = |s: &Sample| s.t.is_finite() && s.t >= 0.0 && (0.0..=100.0).contains(&s.p);
        if saved.samples.len() > self.config.window() || !saved.samples.iter().all(valid) {
            return false;
        }
        self.samples.clear();
        self.samples.reserve_exact(self.config.window());
        self.samples.extend(saved.samples);
        self.aimed_at = saved.aimed_at.unwrap_or(f64::NAN);
        self.overdue = saved.overdue;
        self.anchored = saved.anchored && !self.samples.is_empty();
        self.anchor_dropped = saved.anchor_dropped;
        if let Some(fallback) = &saved.fallback {
            self.fallback.restore(fallback);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::backoff::NextDelay;
    use crate::policy::{ConstantBuilder, Pacer, PollPolicy};
    use crate::status::{AsyncJobStatus, JobState};

    /// The delay a pacer whose backoff never stops gives.
    fn wait(pacer: &mut Pacer, ctx: &PollContext<'_>) -> Duration {
        pacer.delay(ctx).delay().expect("a delay")
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn report(percent: f64) -> AsyncJobStatus {
        AsyncJobStatus::new(JobState::InProgress).with_percentage(percent)
    }

    /// A backoff with a constant 7 s fallback and no slack, fed `(seconds,
    /// percent)` reports; returns the delay after each.
    fn feed(backoff: &mut ProgressBackoff, reports: &[(u64, f64)]) -> Vec<Duration> {
        reports
            .iter()
            .enumerate()
            .map(|(i, &(t, p))| {
                let status = report(p);
                let ctx = PollContext::new(i as u32 + 1, secs(t)).with_last_status(&status);
                backoff.next_delay(&ctx)
            })
            .collect()
    }

    fn plain() -> ProgressBuilder {
        ProgressBuilder::new()
            .with_slack(0.0)
            .with_fallback(ConstantBuilder::new(secs(7)))
    }

    #[test]
    fn linear_progress_is_polled_right_at_completion() {
        let mut b = plain().build();
        // 2% a second: done at 50 s.
        let delays = feed(&mut b, &[(0, 0.0), (4, 8.0)]);
        assert_eq!(delays, [secs(7), secs(46)]);
        assert_eq!(b.predicted_completion(), Some(secs(50)));
    }

    #[test]
    fn a_slow_start_is_followed_only_within_reach() {
        let mut b = plain().with_max_delay(secs(600)).build();
        // 1% after 1 s looks like a 100 s job, or like the start of an S-curve.
        assert_eq!(feed(&mut b, &[(0, 0.0), (1, 1.0)])[1], secs(30));
        let mut far = plain().with_max_delay(secs(600)).with_reach(1000.0).build();
        assert_eq!(feed(&mut far, &[(0, 0.0), (1, 1.0)])[1], secs(99));
    }

    #[test]
    fn a_job_speeding_up_is_polled_on_its_new_pace() {
        let mut b = plain().with_max_delay(secs(600)).build();
        // 0.1%/s for 200 s, then 2%/s: at 40% after 210 s, done at 240 s
        // at the new pace (the smoothed rate alone would say minutes).
        let delays = feed(&mut b, &[(0, 0.0), (100, 10.0), (200, 20.0), (210, 40.0)]);
        assert_eq!(delays[3], secs(30));
    }

    #[test]
    fn slack_lands_just_after_the_prediction() {
        let mut b = plain().with_slack(0.1).build();
        let delays = feed(&mut b, &[(0, 0.0), (10, 50.0)]);
        assert_eq!(delays[1], secs(11));
    }

    #[test]
    fn delays_are_clamped_to_min_and_max() {
        let mut b = plain()
            .with_min_delay(secs(3))
            .with_max_delay(secs(60))
            .build();
        // Nearly done: the prediction is under a second away.
        assert_eq!(feed(&mut b, &[(0, 0.0), (50, 99.5)])[1], secs(3));
        let mut slow = plain().with_max_delay(secs(60)).build();
        // 0.1% in 10 s: hours to go.
        assert_eq!(feed(&mut slow, &[(0, 0.0), (10, 0.1)])[1], secs(60));
        let mut fallback = plain()
            .with_min_delay(secs(10))
            .with_max_delay(secs(20))
            .with_fallback(ConstantBuilder::new(secs(1)))
            .build();
        assert_eq!(feed(&mut fallback, &[(0, 5.0)])[0], secs(10));
    }

    #[test]
    fn untrustworthy_progress_falls_back() {
        for reports in [
            vec![(0, 10.0)],                      // one report
            vec![(0, 10.0), (5, 10.0)],           // flat
            vec![(0, 50.0), (5, 40.0)],           // going backwards
            vec![(0, 10.0), (5, 20.0), (9, 5.0)], // a drop below the window's start
            vec![(0, 10.0), (5, 20.0), (9, f64::NAN)],
            vec![(0, 10.0), (5, 20.0), (9, -1.0)],
            vec![(0, 10.0), (5, 20.0), (9, 100.5)],
        ] {
            let mut b = plain().build();
            let delays = feed(&mut b, &reports);
            assert_eq!(delays.last(), Some(&secs(7)), "{reports:?}");
        }
    }

    #[test]
    fn one_noisy_report_does_not_swing_the_estimate() {
        // 1%/s with one report 8 points too high; the newest report is on the
        // line again. A fit through the last two reports alone would say
        // 72.4 s; the smoothed fit stays near 100 s.
        let mut b = plain().with_smoothing(0.9).build();
        feed(&mut b, &[(0, 0.0), (10, 10.0), (20, 28.0), (30, 30.0)]);
        let at = b.predicted_completion().unwrap().as_secs_f64();
        assert!((90.0..=110.0).contains(&at), "{at}");
    }

    #[test]
    fn scattered_reports_are_polled_before_the_predicted_completion() {
        let mut clean = plain().with_max_delay(secs(600)).build();
        let steady = [(0, 0.0), (10, 10.0), (20, 20.0), (30, 30.0), (40, 40.0)];
        assert_eq!(feed(&mut clean, &steady)[4], secs(60));
        // About the same pace, each report a little off the line.
        let mut noisy = plain().with_max_delay(secs(600)).build();
        let scattered = [(0, 0.0), (10, 12.0), (20, 18.0), (30, 33.0), (40, 38.0)];
        let delay = feed(&mut noisy, &scattered)[4];
        let on_the_line = noisy.predicted_completion().unwrap() - secs(40);
        assert!(
            delay + secs(1) < on_the_line && delay > secs(30),
            "{delay:?} vs {on_the_line:?}"
        );
    }

    #[test]
    fn missing_progress_and_failed_reads_use_the_fallback() {
        let mut b = plain().build();
        feed(&mut b, &[(0, 0.0), (10, 10.0)]);
        let bare = AsyncJobStatus::new(JobState::InProgress);
        let ctx = PollContext::new(3, secs(20)).with_last_status(&bare);
        assert_eq!(b.next_delay(&ctx), secs(7));
        let stale = report(10.0);
        let failed = PollContext::new(4, secs(25))
            .with_last_status(&stale)
            .with_consecutive_failures(1);
        assert_eq!(b.next_delay(&failed), secs(7));
        // The stale report was not taken as a stall: the prediction stands.
        assert_eq!(b.predicted_completion(), Some(secs(100)));
        assert_eq!(b.next_delay(&PollContext::new(5, secs(30))), secs(7));
    }

    #[test]
    fn time_going_backwards_restarts_the_history() {
        let mut b = plain().build();
        feed(&mut b, &[(100, 10.0), (110, 20.0)]);
        assert_eq!(b.predicted_completion(), Some(secs(190)));
        let delays = feed(&mut b, &[(5, 30.0)]);
        assert_eq!(delays, [secs(7)]);
        assert_eq!(b.predicted_completion(), None);
    }

    #[test]
    fn overdue_predictions_back_off_from_the_minimum() {
        let mut b = plain()
            .with_min_delay(secs(2))
            .with_max_delay(secs(30))
            .build();
        // Predicted done at 100 s, still running at 101 s, 103 s, ...
        let delays = feed(
            &mut b,
            &[(0, 0.0), (50, 50.0), (101, 99.9), (103, 99.9), (107, 99.9)],
        );
        assert_eq!(&delays[2..], &[secs(2), secs(4), secs(8)]);
    }

    /// Like `feed`, for an operation that started the job at elapsed zero.
    fn feed_started(backoff: &mut ProgressBackoff, reports: &[(u64, f64)]) -> Vec<Duration> {
        reports
            .iter()
            .enumerate()
            .map(|(i, &(t, p))| {
                let status = report(p);
                let ctx = PollContext::new(i as u32 + 1, secs(t))
                    .with_last_status(&status)
                    .with_from_job_start(true);
                backoff.next_delay(&ctx)
            })
            .collect()
    }

    #[test]
    fn a_job_started_at_zero_is_predicted_from_its_first_report() {
        let mut b = plain().build();
        // 4% after 2 s, from 0% at 0 s: done at 50 s.
        assert_eq!(feed_started(&mut b, &[(2, 4.0)]), [secs(48)]);
        assert_eq!(b.predicted_completion(), Some(secs(50)));
        // Without the anchor one report is not a trend.
        let mut monitored = plain().build();
        assert_eq!(feed(&mut monitored, &[(2, 4.0)]), [secs(7)]);
    }

    #[test]
    fn an_anchor_the_reports_contradict_is_dropped() {
        let mut b = plain().with_max_delay(secs(600)).build();
        // 50% after 1 s looks like a 2 s job; 51% at 2 s says the job was
        // already half done at 0 s, at 1%/s: done at 51 s.
        let delays = feed_started(&mut b, &[(1, 50.0), (2, 51.0)]);
        assert_eq!(delays[0], secs(1));
        assert_eq!(b.predicted_completion(), Some(secs(51)));
        assert_eq!(delays[1], secs(49));
    }

    #[test]
    fn retry_after_is_a_floor_through_the_policy() {
        let mut policy = PollPolicy::new(plain()).start();
        let a = report(0.0);
        let b = report(50.0);
        wait(
            &mut policy,
            &PollContext::new(1, secs(0)).with_last_status(&a),
        );
        let ctx = PollContext::new(2, secs(10))
            .with_last_status(&b)
            .with_retry_after(Some(secs(30)));
        // The prediction says 10 s; the server asked for 30.
        assert_eq!(wait(&mut policy, &ctx), secs(30));
    }
}
