//! The progress-aware backoff's configuration: [`ProgressBuilder`], which polls
//! when the job's reported progress says it should be done, and its defaults.

use std::sync::Arc;
use std::time::Duration;

use super::backoff::{BackoffBuilder, DynBuilder};

/// The fewest progress reports a prediction is made from.
pub(super) const MIN_SAMPLES: usize = 2;

/// Polls shortly after the job is predicted to finish, from the progress it
/// reports.
///
/// Each time it is asked for a delay, `ProgressBuilder` records the
/// `percentageComplete` of the last status with the time it was read, fits a
/// straight line through the recent reports (a weighted least-squares fit, the
/// newest report weighing most, so one noisy report does not swing the
/// estimate), and predicts when the line reaches 100%. The next poll is
/// scheduled a little after that moment — the *slack*, a fraction of the
/// predicted remaining time — and always within `[min, max]`.
///
/// When the operation started the job itself ([`PollContext::from_job_start`]:
/// `Operation::start`), the job stood at 0% at elapsed zero; that *anchor*
/// counts as a report, so the first real report already gives a rate and,
/// with an initial delay (the default policy waits 1 s), the next poll can
/// land at the predicted completion. The anchor is dropped when the first two
/// reports say the job was already well along at elapsed zero. An operation
/// that monitors or resumes a job has no anchor: it needs two reports.
///
/// Two guards keep a wrong prediction cheap:
///
/// - the *reach*: a prediction is followed at most a multiple of the time the
///   operation has run so far (30× by default), because a slow start — an
///   S-shaped progress curve, a job warming up — looks exactly like a long
///   job from two reports;
/// - when the latest interval ran markedly faster than the fitted rate (a job
///   resuming after a stall, or speeding up), the earlier of the two
///   predictions is taken: polling early costs one poll, polling late costs
///   the caller's time.
///
/// When the reports scatter around the line (noisy progress), the poll comes
/// earlier by that scatter — the weighted standard deviation of the reports
/// around the fit, in seconds at the fitted rate — so that a report that
/// made the line late costs an early poll rather than the caller's time.
/// Steady progress has no scatter and is polled at the prediction.
///
/// It hands the decision to its *fallback* backoff (by default an exponential
/// from 1 s by ×1.5 up to 30 s with equal jitter) whenever progress cannot be
/// trusted:
///
/// - no status yet, or no `percentageComplete` in it;
/// - a value that is not a percentage (NaN, infinite, negative, above 100);
/// - fewer than two reports, or progress that is flat or going backwards over
///   the recent reports;
/// - time going backwards (the history is dropped and starts again);
/// - a failed read just now (the last status is stale).
///
/// The fallback's delays are clamped to `[min, max]` too. When a poll sent at
/// or after the predicted completion finds the job still running, the delay
/// doubles from `min` on each such poll (or follows the new prediction, if
/// that is later), so a job sitting at 99% costs a few polls, not one every
/// `min`. A stalled job makes the prediction recede, and the maximum delay
/// bounds each wait.
///
/// The server's `Retry-After` is not read here: [`PollPolicy`] applies it on
/// top ([`RetryAfterMode::Floor`] by default), so a poll never comes sooner
/// than an honoured `Retry-After`.
///
/// `ProgressBuilder` is the configuration, shared (cloning it copies a
/// pointer); each operation [builds](BackoffBuilder::build) its own
/// running state, which keeps the history of one job.
///
/// [`PollContext::from_job_start`]: super::PollContext::from_job_start
/// [`PollPolicy`]: super::PollPolicy
/// [`RetryAfterMode::Floor`]: super::RetryAfterMode::Floor
///
/// ```
/// use std::time::Duration;
/// use lro_poller::{AsyncJobStatus, JobState};
/// use lro_poller::policy::{
///     Backoff, BackoffBuilder, ConstantBuilder, PollContext, PollPolicy, ProgressBuilder,
/// };
///
/// let config = ProgressBuilder::new()
///     .with_min_delay(Duration::from_secs(1))
///     .with_max_delay(Duration::from_secs(120))
///     .with_slack(0.0)
///     .with_fallback(ConstantBuilder::new(Duration::from_secs(2)));
/// let mut backoff = config.build();
///
/// // 10% after 5 s, then 20% after 10 s: done at 50 s.
/// let at = |percent| AsyncJobStatus::new(JobState::InProgress).with_percentage(percent);
/// let first = at(10.0);
/// let mut ctx = PollContext::new(1, Duration::from_secs(5));
/// ctx.last_status = Some(&first);
/// let step = backoff.next(&ctx);
/// assert_eq!(step.delay(), Some(Duration::from_secs(2))); // one report is not a trend: fallback
/// let second = at(20.0);
/// let mut ctx = PollContext::new(2, Duration::from_secs(10));
/// ctx.last_status = Some(&second);
/// let step = backoff.next(&ctx);
/// assert_eq!(step.delay(), Some(Duration::from_secs(40))); // poll again at 50 s
///
/// // In an operation, wrap it in a policy (Retry-After is a floor on top).
/// let policy = PollPolicy::new(ProgressBuilder::new());
/// ```
#[derive(Debug, Clone)]
pub struct ProgressBuilder {
    config: Arc<Config>,
}

/// The settings of a [`ProgressBuilder`], shared by the backoffs it builds.
#[derive(Debug, Clone)]
pub(super) struct Config {
    min: Duration,
    max: Duration,
    slack: f64,
    reach: f64,
    window: usize,
    smoothing: f64,
    /// `None`: the default fallback, run inline (no allocation).
    fallback: Option<Arc<dyn DynBuilder>>,
}

/// The settings, read by the running backoff; only the builder sets them.
impl Config {
    /// The shortest delay.
    pub(super) fn min(&self) -> Duration {
        self.min
    }

    /// The longest delay.
    pub(super) fn max(&self) -> Duration {
        self.max
    }

    /// The share of the predicted remaining time added to it.
    pub(super) fn slack(&self) -> f64 {
        self.slack
    }

    /// How far ahead a prediction may reach, as a multiple of the time so far.
    pub(super) fn reach(&self) -> f64 {
        self.reach
    }

    /// How many recent reports the fit uses.
    pub(super) fn window(&self) -> usize {
        self.window
    }

    /// How much an older report weighs relative to the next newer one.
    pub(super) fn smoothing(&self) -> f64 {
        self.smoothing
    }

    /// The caller's fallback, or `None` for the default one.
    pub(super) fn fallback(&self) -> Option<&Arc<dyn DynBuilder>> {
        self.fallback.as_ref()
    }
}

/// The default shortest delay: 1 s.
pub(crate) const PROGRESS_MIN_DELAY: Duration = Duration::from_secs(1);
/// The default longest delay: 1 minute.
pub(crate) const PROGRESS_MAX_DELAY: Duration = Duration::from_secs(60);

impl Default for ProgressBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ProgressBuilder {
    /// The settings the backoffs it builds share.
    pub(super) fn settings(&self) -> &Arc<Config> {
        &self.config
    }

    /// A progress-aware backoff with the defaults: delays within 1 s and
    /// 1 minute, a
    /// slack of 1% of the predicted remaining time, a reach of 30× the time
    /// run so far, a fit over the last 6 reports with a smoothing of 0.9, and
    /// a fallback that is exponential from 1 s by ×1.5 up to 30 s with equal
    /// jitter (randomly seeded).
    ///
    /// These defaults come from the simulation in `examples/policy_sim/`
    /// (see the README's "Polling efficiency").
    pub fn new() -> Self {
        ProgressBuilder {
            config: Arc::new(Config {
                min: PROGRESS_MIN_DELAY,
                max: PROGRESS_MAX_DELAY,
                slack: 0.01,
                reach: 30.0,
                window: 6,
                smoothing: 0.9,
                fallback: None,
            }),
        }
    }

    fn config(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// Never waits less than `min` (default 1 s; also applies to the
    /// fallback's delays).
    pub fn with_min_delay(mut self, min: Duration) -> Self {
        self.config().min = min;
        self
    }

    /// Never waits more than `max` (default 1 minute; also applies to the
    /// fallback's delays).
    /// When `max` is below `min`, `max` wins.
    pub fn with_max_delay(mut self, max: Duration) -> Self {
        self.config().max = max;
        self
    }

    /// The backoff used whenever progress cannot be trusted.
    pub fn with_fallback(mut self, fallback: impl BackoffBuilder + 'static) -> Self {
        self.config().fallback = Some(Arc::new(fallback));
        self
    }

    /// How long after the predicted completion to poll, as a fraction of the
    /// predicted remaining time (default 0.01: a job predicted to need 100 s
    /// more is polled after 101 s). Larger values trade detection delay for
    /// fewer early polls when progress is noisy. NaN or negative values are
    /// taken as 0; values above 10 as 10.
    pub fn with_slack(mut self, slack: f64) -> Self {
        self.config().slack = if slack.is_nan() {
            0.0
        } else {
            slack.clamp(0.0, 10.0)
        };
        self
    }

    /// How far ahead a prediction is followed, as a multiple of the time the
    /// operation has run (default 30). A job at 1% after 1 s is predicted to
    /// need 99 s more, but a slow start (an S-shaped progress curve, a job
    /// warming up) looks the same; with a reach of 30 the next poll comes after
    /// at most 30 s, where the rate is measured again. NaN or values below 1
    /// are taken as 1.
    pub fn with_reach(mut self, reach: f64) -> Self {
        self.config().reach = if reach.is_nan() { 1.0 } else { reach.max(1.0) };
        self
    }

    /// How many of the most recent reports the fit uses (default 6; at least
    /// 2, at most 64).
    pub fn with_window(mut self, reports: usize) -> Self {
        self.config().window = reports.clamp(MIN_SAMPLES, 64);
        self
    }

    /// How much each older report weighs relative to the next newer one in
    /// the fit, in `(0, 1]` (default 0.9). Near 1 averages noise out over the
    /// whole window; near 0 follows the latest change in rate. Values outside
    /// are clamped to `[0.01, 1]`; NaN is taken as the default.
    pub fn with_smoothing(mut self, smoothing: f64) -> Self {
        self.config().smoothing = if smoothing.is_nan() {
            0.9
        } else {
            smoothing.clamp(0.01, 1.0)
        };
        self
    }

    /// The shortest delay.
    pub fn min_delay(&self) -> Duration {
        self.config.min
    }

    /// The longest delay.
    pub fn max_delay(&self) -> Duration {
        self.config.max
    }
}
