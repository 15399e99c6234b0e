//! Property tests of the `Operation` state machine on virtual time, against a
//! scripted monitor that answers arbitrary sequences: in-progress with any
//! progress, unknown statuses, transient and permanent read failures,
//! Retry-After values including absurd ones, and terminal statuses.
//!
//! Each property runs 1,000 cases. A small independent model of the rules
//! (README "Policies") predicts what the operation must do; the properties
//! compare the real operation with it and check the invariants directly.

use std::time::{Duration, SystemTime};

use futures::StreamExt;
use futures::executor::block_on;
use lro_poller::policy::{
    Backoff, BackoffBuilder, ConstantBuilder, ErrorPolicy, ExponentialBuilder, Jitter, PollContext,
    PollPolicy, RetryAfterMode,
};
use lro_poller::testing::{ScriptedTransport, VirtualTimer};
use lro_poller::{AsyncJobStatus, Error, GaveUpCause, JobState, Operation, TransportError};
use proptest::prelude::*;

const MONITOR: &str = "https://monitor.example/jobs/1?tempauth=secret";
const CASES: u32 = 1000;

/// A `Retry-After` as the server sends it, and what it means.
#[derive(Debug, Clone)]
enum Hint {
    None,
    Seconds(u64),
    Millis(u32),
    Date(u32),
    Garbage(&'static str),
}

impl Hint {
    fn headers(&self) -> Vec<(String, String)> {
        let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        match self {
            Hint::None => vec![],
            Hint::Seconds(s) => vec![("retry-after".into(), s.to_string())],
            Hint::Millis(ms) => vec![("retry-after-ms".into(), ms.to_string())],
            Hint::Date(s) => vec![
                (
                    "retry-after".into(),
                    httpdate::fmt_http_date(base + Duration::from_secs(u64::from(*s))),
                ),
                ("date".into(), httpdate::fmt_http_date(base)),
            ],
            Hint::Garbage(g) => vec![("retry-after".into(), (*g).into())],
        }
    }

    fn meaning(&self) -> Option<Duration> {
        match self {
            Hint::None | Hint::Garbage(_) => None,
            Hint::Seconds(s) => Some(Duration::from_secs(*s)),
            Hint::Millis(ms) => Some(Duration::from_millis(u64::from(*ms))),
            Hint::Date(s) => Some(Duration::from_secs(u64::from(*s))),
        }
    }
}

/// One answer of the monitor.
#[derive(Debug, Clone)]
enum Step {
    /// 200 or 202 with a non-terminal status (documented or unknown).
    Running {
        code: u16,
        status: String,
        percentage: Option<f64>,
        hint: Hint,
    },
    /// A terminal status, in some casing.
    Terminal { code: u16, status: String },
    /// A failure to read: an I/O error (`None`) or a transient status.
    Transient { code: Option<u16>, hint: Hint },
    /// A status that ends the operation at once.
    Permanent { code: u16 },
}

fn hint() -> impl Strategy<Value = Hint> {
    prop_oneof![
        4 => Just(Hint::None),
        2 => (0u64..120).prop_map(Hint::Seconds),
        1 => prop_oneof![Just(9_999_999_999u64), 3600u64..1_000_000].prop_map(Hint::Seconds),
        1 => (0u32..100_000).prop_map(Hint::Millis),
        1 => (0u32..7200).prop_map(Hint::Date),
        1 => prop_oneof![Just("-1"), Just("soon"), Just(""), Just("1e9")].prop_map(Hint::Garbage),
    ]
}

fn casing(name: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        Just(name.to_string()),
        Just(name.to_uppercase()),
        Just(name.to_lowercase()),
        Just({
            let mut c = name.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }),
    ]
}

const RUNNING: [&str; 6] = [
    "notStarted",
    "inProgress",
    "updating",
    "deletePending",
    "waiting",
    "cancelPending",
];
const KNOWN: [&str; 13] = [
    "succeeded",
    "running",
    "notstarted",
    "inprogress",
    "completed",
    "updating",
    "failed",
    "deletepending",
    "deletefailed",
    "waiting",
    "cancelled",
    "canceled",
    "cancelpending",
];

fn running_status() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(RUNNING.to_vec()).prop_flat_map(casing),
        1 => "[a-zA-Z][a-zA-Z ]{0,11}"
            .prop_filter("unknown", |s| !KNOWN.contains(&s.to_lowercase().as_str())),
    ]
}

fn percentage() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        Just(None),
        (0.0f64..=100.0).prop_map(Some),
        (0u8..=100).prop_map(|p| Some(f64::from(p))),
        (-1e6f64..1e6).prop_map(Some),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (prop_oneof![Just(200u16), Just(202)], running_status(), percentage(), hint())
            .prop_map(|(code, status, percentage, hint)| Step::Running { code, status, percentage, hint }),
        1 => (
            prop_oneof![Just(200u16), Just(303)],
            proptest::sample::select(vec!["completed", "failed", "deleteFailed", "cancelled", "canceled"])
                .prop_flat_map(casing),
        )
            .prop_map(|(code, status)| Step::Terminal { code, status }),
        3 => (
            prop_oneof![Just(None), proptest::sample::select(vec![408u16, 429, 500, 502, 503, 504]).prop_map(Some)],
            hint(),
        )
            .prop_map(|(code, hint)| Step::Transient { code, hint }),
        1 => proptest::sample::select(vec![400u16, 401, 403, 404, 405, 409, 410, 422, 501])
            .prop_map(|code| Step::Permanent { code }),
    ]
}

/// The policy under test, described so the model can rebuild it.
#[derive(Debug, Clone)]
struct Config {
    backoff: BackoffKind,
    mode: RetryAfterMode,
    cap: Duration,
    deadline: Option<Duration>,
    max_polls: Option<u32>,
    max_retries: u32,
    initial_delay: Duration,
}

#[derive(Debug, Clone)]
enum BackoffKind {
    Constant(Duration),
    Exponential(Duration, f64, Duration),
    Jittered(Duration, u64),
}

/// The delay of a backoff that never stops.
trait NextDelay {
    fn next_delay(&mut self, ctx: &PollContext<'_>) -> Duration;
}

impl<B: Backoff> NextDelay for B {
    fn next_delay(&mut self, ctx: &PollContext<'_>) -> Duration {
        self.next(ctx).delay().expect("a delay")
    }
}

/// A builder of any of the built-in kinds, as a user's own builder would
/// hold one: its backoffs boxed.
#[derive(Debug, Clone)]
struct AnyBuilder(BackoffKind);

impl BackoffBuilder for AnyBuilder {
    type Backoff = Box<dyn Backoff>;
    fn build(&self) -> Box<dyn Backoff> {
        match &self.0 {
            BackoffKind::Constant(d) => Box::new(ConstantBuilder::new(*d).build()),
            BackoffKind::Exponential(i, f, m) => {
                Box::new(ExponentialBuilder::new(*i, *f, *m).build())
            }
            BackoffKind::Jittered(d, seed) => Box::new(
                ExponentialBuilder::new(*d, 2.0, Duration::from_secs(300))
                    .with_jitter_seeded(Jitter::Full, *seed)
                    .build(),
            ),
        }
    }
}

impl BackoffKind {
    /// One operation's running backoff.
    fn start(&self) -> Box<dyn Backoff> {
        self.build().build()
    }

    fn build(&self) -> AnyBuilder {
        AnyBuilder(self.clone())
    }
}

fn millis(range: std::ops::Range<u64>) -> impl Strategy<Value = Duration> {
    range.prop_map(Duration::from_millis)
}

fn config() -> impl Strategy<Value = Config> {
    let backoff = prop_oneof![
        millis(0..120_000).prop_map(BackoffKind::Constant),
        (millis(1..5_000), 1.0f64..4.0, millis(1..600_000))
            .prop_map(|(i, f, m)| BackoffKind::Exponential(i, f, m)),
        (millis(1..5_000), any::<u64>()).prop_map(|(d, s)| BackoffKind::Jittered(d, s)),
    ];
    (
        backoff,
        prop_oneof![
            Just(RetryAfterMode::Floor),
            Just(RetryAfterMode::Replace),
            Just(RetryAfterMode::Ignore)
        ],
        millis(1_000..1_200_000),
        prop_oneof![Just(None), millis(1..3_600_000).prop_map(Some)],
        prop_oneof![3 => Just(None), 1 => (1u32..30).prop_map(Some)],
        0u32..6,
        prop_oneof![3 => Just(Duration::ZERO), 1 => millis(1..10_000)],
    )
        .prop_map(
            |(backoff, mode, cap, deadline, max_polls, max_retries, initial_delay)| Config {
                backoff,
                mode,
                cap,
                deadline,
                max_polls,
                max_retries,
                initial_delay,
            },
        )
}

fn policy(config: &Config) -> PollPolicy {
    // No floor: the model predicts the backoff's own delays.
    let mut policy = PollPolicy::new(config.backoff.build())
        .with_min_interval(Duration::ZERO)
        .with_retry_after(config.mode)
        .with_retry_after_cap(config.cap)
        .with_initial_delay(config.initial_delay);
    policy = match config.deadline {
        Some(d) => policy.with_deadline(d),
        None => policy.without_deadline(),
    };
    if let Some(max) = config.max_polls {
        policy = policy.with_max_polls(max);
    }
    policy
}

fn script(steps: &[Step]) -> ScriptedTransport {
    let transport = ScriptedTransport::new();
    for step in steps {
        match step {
            Step::Running {
                code,
                status,
                percentage,
                hint,
            } => {
                let mut body = serde_json::json!({ "status": status, "operation": "ItemCopy" });
                if let Some(p) = percentage {
                    body["percentageComplete"] = serde_json::json!(p);
                }
                let headers = hint.headers();
                let headers: Vec<_> = headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                transport.push_response(*code, &headers, body.to_string());
            }
            Step::Terminal { code, status } => {
                let body = serde_json::json!({
                    "status": status,
                    "resourceId": "01RESULT",
                    "error": {"code": "svcCode", "message": "the service's message"},
                });
                transport.push_response(*code, &[], body.to_string());
            }
            Step::Transient { code: None, .. } => {
                transport.push(Err(lro_poller::TransportError::connect("refused")));
            }
            Step::Transient {
                code: Some(code),
                hint,
            } => {
                let headers = hint.headers();
                let headers: Vec<_> = headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                transport.push_response(*code, &headers, r#"{"error":{"code":"busy"}}"#);
            }
            Step::Permanent { code } => {
                transport.push_response(
                    *code,
                    &[],
                    r#"{"error":{"code":"denied","message":"no"}}"#,
                );
            }
        }
    }
    transport
}

/// How the model says the operation ends.
#[derive(Debug, Clone, PartialEq)]
enum End {
    Succeeded,
    JobFailed(JobState),
    Transport,
    Http(u16),
    Expired(u16),
    Deadline { elapsed: Duration, polls: u32 },
    PollLimit { polls: u32 },
    Exhausted,
}

#[derive(Debug)]
struct Prediction {
    /// The statuses the stream yields, in order.
    yields: Vec<JobState>,
    /// Requests sent.
    requests: usize,
    /// Sleeps, in order.
    sleeps: Vec<Duration>,
    end: End,
}

/// An independent model of the rules: what the operation must do.
fn predict(config: &Config, steps: &[Step]) -> Prediction {
    let mut backoff = config.backoff.start();
    let mut yields = Vec::new();
    let mut sleeps = Vec::new();
    let mut elapsed = Duration::ZERO;
    let mut polls = 0u32;
    let mut failures = 0u32;

    // Applies limits to a delay; returns the end if a limit is hit.
    let limit = |delay: Duration, polls: u32, elapsed: Duration| -> Result<Duration, End> {
        if config.max_polls.is_some_and(|m| polls >= m) {
            return Err(End::PollLimit { polls });
        }
        match config.deadline {
            Some(d) if d <= elapsed => Err(End::Deadline { elapsed, polls }),
            Some(d) => Ok(delay.min(d - elapsed)),
            None => Ok(delay),
        }
    };
    let combine = |own: Duration, hint: &Hint| -> Duration {
        match (config.mode, hint.meaning()) {
            (RetryAfterMode::Floor, Some(h)) => own.max(h.min(config.cap)),
            (RetryAfterMode::Replace, Some(h)) => h.min(config.cap),
            _ => own,
        }
    };

    if !config.initial_delay.is_zero() {
        match limit(config.initial_delay, 0, elapsed) {
            Ok(d) => {
                sleeps.push(d);
                elapsed += d;
            }
            Err(end) => {
                return Prediction {
                    yields,
                    requests: 0,
                    sleeps,
                    end,
                };
            }
        }
    } else if let Err(end) = limit(Duration::ZERO, 0, elapsed) {
        return Prediction {
            yields,
            requests: 0,
            sleeps,
            end,
        };
    }

    let mut steps = steps.iter();
    loop {
        polls += 1;
        let requests = polls as usize;
        let Some(step) = steps.next() else {
            return Prediction {
                yields,
                requests,
                sleeps,
                end: End::Exhausted,
            };
        };
        let hint = match step {
            Step::Running { status, hint, .. } => {
                failures = 0;
                yields.push(JobState::parse(status));
                hint.clone()
            }
            Step::Terminal { status, .. } => {
                let state = JobState::parse(status);
                yields.push(state.clone());
                let end = if state.is_success() {
                    End::Succeeded
                } else {
                    End::JobFailed(state)
                };
                return Prediction {
                    yields,
                    requests,
                    sleeps,
                    end,
                };
            }
            Step::Transient { code, hint } => {
                failures += 1;
                if failures > config.max_retries {
                    let end = code.map_or(End::Transport, End::Http);
                    return Prediction {
                        yields,
                        requests,
                        sleeps,
                        end,
                    };
                }
                // An I/O error has no headers, so no Retry-After.
                if code.is_some() {
                    hint.clone()
                } else {
                    Hint::None
                }
            }
            Step::Permanent { code } => {
                let end = if matches!(code, 404 | 410) {
                    End::Expired(*code)
                } else {
                    End::Http(*code)
                };
                return Prediction {
                    yields,
                    requests,
                    sleeps,
                    end,
                };
            }
        };
        let own = backoff.next_delay(&PollContext::new(polls, elapsed));
        let hint = if config.mode == RetryAfterMode::Ignore {
            Hint::None
        } else {
            hint
        };
        match limit(combine(own, &hint), polls, elapsed) {
            Ok(d) => {
                sleeps.push(d);
                elapsed = elapsed.saturating_add(d);
            }
            Err(end) => {
                return Prediction {
                    yields,
                    requests,
                    sleeps,
                    end,
                };
            }
        }
    }
}

fn classify(result: &Result<AsyncJobStatus, Error>) -> Option<End> {
    match result {
        Ok(status) if status.status.is_success() => Some(End::Succeeded),
        Ok(status) if status.status.is_terminal() => Some(End::JobFailed(status.status.clone())),
        Ok(_) => None,
        Err(error) => Some(error_end(error)),
    }
}

fn error_end(error: &Error) -> End {
    match error {
        Error::Failed(status) => End::JobFailed(status.status.clone()),
        Error::Request(e)
            if e.transport_error()
                .is_some_and(TransportError::is_invalid_request) =>
        {
            End::Exhausted
        }
        Error::Request(e) if e.transport_error().is_some() => End::Transport,
        Error::Request(e) if e.monitor_expired() => End::Expired(e.status().unwrap().as_u16()),
        Error::Request(e) => End::Http(e.status().unwrap().as_u16()),
        Error::GaveUp(g) if *g.cause() == GaveUpCause::Deadline => End::Deadline {
            elapsed: g.elapsed(),
            polls: g.polls(),
        },
        Error::GaveUp(g) if *g.cause() == GaveUpCause::PollLimit => {
            End::PollLimit { polls: g.polls() }
        }
        other => panic!("unexpected error {other:?}"),
    }
}

struct Run {
    items: Vec<Result<AsyncJobStatus, Error>>,
    transport: ScriptedTransport,
    timer: VirtualTimer,
    after_end: Option<Result<AsyncJobStatus, Error>>,
    outcome: Result<lro_poller::Outcome, Error>,
}

fn build(config: &Config, steps: &[Step]) -> (Operation, ScriptedTransport, VirtualTimer) {
    let transport = script(steps);
    let timer = VirtualTimer::new();
    let operation = Operation::monitor(transport.clone(), MONITOR)
        .with_timer(timer.clone())
        .with_policy(policy(config))
        .with_error_policy(ErrorPolicy::default().with_max_retries(config.max_retries))
        .build()
        .expect("valid setup");
    (operation, transport, timer)
}

fn run_stream(config: &Config, steps: &[Step]) -> Run {
    let (mut operation, transport, timer) = build(config, steps);
    let items = block_on(operation.by_ref().collect::<Vec<_>>());
    let after_end = block_on(operation.next());
    let outcome = block_on(operation.outcome());
    Run {
        items,
        transport,
        timer,
        after_end,
        outcome,
    }
}

fn states(items: &[Result<AsyncJobStatus, Error>]) -> Vec<JobState> {
    items
        .iter()
        .filter_map(|i| i.as_ref().ok())
        .map(|s| s.status.clone())
        .collect()
}

fn first_terminal_prefix(steps: &[Step]) -> Vec<JobState> {
    let mut out = Vec::new();
    for step in steps {
        match step {
            Step::Running { status, .. } => out.push(JobState::parse(status)),
            Step::Terminal { status, .. } => {
                out.push(JobState::parse(status));
                break;
            }
            _ => {}
        }
    }
    out
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(step(), 0..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// 1. The stream yields exactly the scripted statuses up to and including
    ///    the first terminal one, in order, then ends (or ends early with one
    ///    error, as the model says).
    #[test]
    fn yields_scripted_statuses_in_order_then_ends(config in config(), steps in steps()) {
        let run = run_stream(&config, &steps);
        let model = predict(&config, &steps);
        let yielded = states(&run.items);
        prop_assert_eq!(&yielded, &model.yields);
        let expected_all = first_terminal_prefix(&steps);
        prop_assert!(expected_all.starts_with(&yielded));
        if model.end == End::Succeeded || matches!(model.end, End::JobFailed(_)) {
            prop_assert_eq!(&yielded, &expected_all);
            prop_assert!(run.items.iter().all(Result::is_ok));
        }
        // Exactly one terminal item, and it is the last one.
        let ends: Vec<_> = run.items.iter().filter_map(classify).collect();
        prop_assert_eq!(ends.len(), 1, "items {:?}", run.items);
        prop_assert!(classify(run.items.last().unwrap()).is_some());
        prop_assert!(run.after_end.is_none());
        // Unknown statuses were never taken for terminal.
        for state in &yielded[..yielded.len().saturating_sub(1)] {
            prop_assert!(!state.is_terminal());
        }
    }

    /// 2. The transport is never called after the terminal status or the end.
    #[test]
    fn no_request_after_the_end(config in config(), steps in steps()) {
        let run = run_stream(&config, &steps);
        let model = predict(&config, &steps);
        // `run_stream` polled the ended stream once more and awaited the
        // outcome after it: neither sent anything.
        prop_assert_eq!(run.transport.requests().len(), model.requests);
        prop_assert_eq!(run.transport.remaining(), steps.len().saturating_sub(model.requests));
        for request in run.transport.requests() {
            prop_assert_eq!(request.method, http::Method::GET);
        }
    }

    /// 3. Every sleep is what the policy decided, never above the cap (unless
    ///    the backoff itself asked for more) and never below an honoured
    ///    Retry-After in floor mode (only the deadline may cut it).
    #[test]
    fn sleeps_follow_the_policy(config in config(), steps in steps()) {
        let run = run_stream(&config, &steps);
        let model = predict(&config, &steps);
        let sleeps = run.timer.sleeps();
        prop_assert_eq!(&sleeps, &model.sleeps);

        // Direct checks, independent of the model's arithmetic.
        let mut backoff = config.backoff.start();
        let mut elapsed = Duration::ZERO;
        let offset = usize::from(!config.initial_delay.is_zero());
        let mut reads = steps.iter().filter(|s| !matches!(s, Step::Terminal { .. } | Step::Permanent { .. }));
        for (i, sleep) in sleeps.iter().enumerate() {
            if i < offset {
                elapsed += *sleep;
                continue;
            }
            let attempt = u32::try_from(i + 1 - offset).unwrap();
            let own = backoff.next_delay(&PollContext::new(attempt, elapsed));
            let hint = match reads.next() {
                Some(Step::Running { hint, .. }) | Some(Step::Transient { code: Some(_), hint }) => hint.meaning(),
                _ => None,
            };
            let cut_by_deadline = config.deadline.is_some_and(|d| elapsed + *sleep == d);
            prop_assert!(*sleep <= own.max(config.cap), "sleep {:?} above cap {:?}", sleep, config.cap);
            if config.mode == RetryAfterMode::Floor && !cut_by_deadline {
                if let Some(h) = hint {
                    prop_assert!(*sleep >= h.min(config.cap), "sleep {:?} below Retry-After {:?}", sleep, h);
                }
            }
            elapsed += *sleep;
        }
    }

    /// 4. With a deadline D, virtual time never passes D, and a deadline error
    ///    reports the elapsed time and the poll count.
    #[test]
    fn deadline_is_never_passed(config in config(), steps in steps()) {
        let run = run_stream(&config, &steps);
        let total: Duration = run.timer.sleeps().iter().sum();
        prop_assert_eq!(run.timer.elapsed(), total);
        if let Some(deadline) = config.deadline {
            prop_assert!(total <= deadline, "slept {:?} past {:?}", total, deadline);
        }
        if let Some(Err(Error::GaveUp(g))) = run.items.last().filter(|item| {
            matches!(item, Err(Error::GaveUp(g)) if *g.cause() == GaveUpCause::Deadline)
        }) {
            let (elapsed, polls) = (&g.elapsed(), &g.polls());
            prop_assert_eq!(Some(*elapsed), config.deadline);
            prop_assert_eq!(*elapsed, total);
            prop_assert_eq!(*polls as usize, run.transport.requests().len());
            let text = run.items.last().unwrap().as_ref().unwrap_err().to_string();
            prop_assert!(text.contains(&polls.to_string()));
        }
    }

    /// 5. Transient failures are retried at most the policy's limit in a row;
    ///    a permanent failure ends the stream at once.
    #[test]
    fn retries_are_bounded_and_permanent_failures_end_at_once(config in config(), steps in steps()) {
        let run = run_stream(&config, &steps);
        let sent = run.transport.requests().len();
        let consumed = &steps[..sent.min(steps.len())];
        let mut in_a_row = 0u32;
        for (i, step) in consumed.iter().enumerate() {
            match step {
                Step::Transient { .. } => {
                    in_a_row += 1;
                    prop_assert!(in_a_row <= config.max_retries + 1);
                    if in_a_row == config.max_retries + 1 {
                        prop_assert_eq!(i + 1, sent, "polled after the retry limit");
                    }
                }
                Step::Permanent { code } => {
                    prop_assert_eq!(i + 1, sent, "polled after a permanent failure");
                    let last = run.items.last().unwrap().as_ref().unwrap_err();
                    prop_assert_eq!(last.http_status().map(|s| s.as_u16()), Some(*code));
                    prop_assert!(!last.to_string().contains("secret"));
                }
                _ => in_a_row = 0,
            }
        }
    }

    /// 6. Awaiting the operation gives the outcome that matches the stream's
    ///    last item, whether the stream was drained first or not.
    #[test]
    fn awaiting_matches_the_stream(config in config(), steps in steps()) {
        let run = run_stream(&config, &steps);
        let (operation, _, _) = build(&config, &steps);
        let awaited = block_on(async move { operation.await });
        let last = run.items.last().unwrap();
        for outcome in [&run.outcome, &awaited] {
            match (last, outcome) {
                (Ok(status), Ok(outcome)) => {
                    prop_assert!(status.status.is_success());
                    prop_assert_eq!(outcome.status(), status);
                    prop_assert_eq!(outcome.resource_id(), Some("01RESULT"));
                }
                (Ok(status), Err(Error::Failed(failed))) => {
                    prop_assert!(!status.status.is_success());
                    prop_assert_eq!(&**failed, status);
                    prop_assert_eq!(failed.error.as_ref().and_then(|e| e.code.as_deref()), Some("svcCode"));
                }
                (Err(stream_error), Err(error)) => {
                    prop_assert_eq!(error_end(stream_error), error_end(error));
                    prop_assert_eq!(stream_error.to_string(), error.to_string());
                }
                (item, outcome) => prop_assert!(false, "stream ended with {:?} but outcome is {:?}", item, outcome),
            }
        }
        let model = predict(&config, &steps);
        let end = match &awaited { Ok(_) => End::Succeeded, Err(e) => error_end(e) };
        prop_assert_eq!(end, model.end);
    }

    /// 7. Backoffs never overflow or panic, at any attempt, with any inputs.
    #[test]
    fn backoffs_never_overflow(
        attempt in prop_oneof![Just(u32::MAX), Just(1_000_000_000u32), any::<u32>()],
        secs in prop_oneof![Just(u64::MAX), any::<u64>()],
        nanos in 0u32..1_000_000_000,
        factor in prop_oneof![Just(f64::MAX), Just(f64::INFINITY), Just(f64::NAN), any::<f64>()],
        seed in any::<u64>(),
        hint in prop_oneof![Just(None), Just(Some(Duration::MAX)), any::<u64>().prop_map(|s| Some(Duration::from_secs(s)))],
    ) {
        let big = Duration::new(secs, nanos);
        let mut ctx = PollContext::new(attempt, big);
        ctx.retry_after = hint;
        ctx.previous_delay = Some(big);
        let mut backoffs: Vec<Box<dyn Backoff>> = vec![
            Box::new(ConstantBuilder::new(big).build()),
            Box::new(ExponentialBuilder::new(big, factor, Duration::MAX).build()),
            Box::new(ExponentialBuilder::new(Duration::from_secs(1), factor, big).build()),
        ];
        for jitter in [Jitter::None, Jitter::Full, Jitter::Equal, Jitter::Decorrelated] {
            backoffs.push(Box::new(ExponentialBuilder::new(big, factor, big).with_jitter_seeded(jitter, seed).build()));
            backoffs.push(Box::new(ConstantBuilder::new(big).with_jitter_seeded(jitter, seed).build()));
        }
        for mut backoff in backoffs {
            let _ = backoff.next(&ctx);
            let _ = backoff.next(&ctx);
        }
    }
}

/// The operation is `Send` (and so can be spawned on a multi-threaded runtime).
#[test]
fn operation_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let (operation, _, _) = build(
        &Config {
            backoff: BackoffKind::Constant(Duration::from_secs(1)),
            mode: RetryAfterMode::Floor,
            cap: Duration::from_secs(1),
            deadline: None,
            max_polls: None,
            max_retries: 0,
            initial_delay: Duration::ZERO,
        },
        &[],
    );
    assert_send(&operation);
    assert_send(&std::future::IntoFuture::into_future(operation));
}
