//! The property: stop an operation after any poll (or after its start),
//! write its token as text, drop everything, resume — and the same requests
//! go out at the same (virtual) times, with the same outcome, as when it
//! never stopped. Resumed after every status, a job costs no more polls.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use futures::executor::block_on;
use lro_poller::policy::{
    ConstantBuilder, ExponentialBuilder, Jitter, PollPolicy, ProgressBuilder, SmithyBuilder,
    from_fn,
};
use lro_poller::protocol::ProtocolKind;
use lro_poller::testing::{ScriptedTransport, VirtualTimer};
use lro_poller::timer::Timer;
use lro_poller::waiter::{WaiterProtocol, Waiters};
use lro_poller::{Error, Operation, OperationBuilder, ResumeToken};
use proptest::prelude::*;

use crate::clocked::{Clocked, Sent, wall};

const TABLE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/waiters/table_exists.json"
));

#[derive(Debug, Clone, Copy)]
enum Family {
    Graph,
    Azure,
    Google,
    Waiter,
}

#[derive(Debug, Clone, Copy)]
enum Shape {
    Constant(Jitter),
    Exponential(Jitter),
    Progress,
    Smithy,
    Delays,
}

/// One poll's answer: still running (with progress, a `Retry-After`), or a
/// transient failure first.
#[derive(Debug, Clone, Copy)]
struct Running {
    progress: u8,
    retry_after: Option<u64>,
    fails_first: bool,
}

#[derive(Debug, Clone)]
struct Case {
    family: Family,
    shape: Shape,
    running: Vec<Running>,
    deadline: Option<u64>,
    seed: u64,
}

type Answer = (u16, Vec<(&'static str, String)>, String);

fn json(code: u16, body: String) -> Answer {
    (
        code,
        vec![("content-type", "application/json".into())],
        body,
    )
}

impl Case {
    fn start_request(&self) -> http::Request<bytes::Bytes> {
        let (method, url) = match self.family {
            Family::Graph => ("POST", "https://graph.example/items/1/copy"),
            Family::Azure => ("PUT", "https://azure.example/things/1"),
            Family::Google => ("POST", "https://google.example/v1/projects/p/instances"),
            Family::Waiter => ("POST", "https://dynamo.example/tables"),
        };
        http::Request::builder()
            .method(method)
            .uri(url)
            .header("content-type", "application/json")
            .body(bytes::Bytes::from_static(b"{\"TableName\":\"t\"}"))
            .unwrap()
    }

    /// Every answer, in order: the start's, each poll's, the last.
    fn answers(&self) -> Vec<Answer> {
        let mut answers = vec![match self.family {
            Family::Graph => (
                202,
                vec![("location", "https://graph.example/monitor/1".into())],
                String::new(),
            ),
            Family::Azure => (
                201,
                vec![("azure-asyncoperation", "https://azure.example/ops/1".into())],
                "{}".into(),
            ),
            Family::Google => json(200, r#"{"name":"projects/p/operations/op-1"}"#.into()),
            Family::Waiter => json(400, waiter_missing()),
        }];
        for running in &self.running {
            if running.fails_first {
                answers.push((503, vec![], "busy".into()));
            }
            let p = running.progress;
            let mut answer = match self.family {
                Family::Graph => json(
                    202,
                    format!(r#"{{"status":"inProgress","percentageComplete":{p}}}"#),
                ),
                Family::Azure => json(
                    200,
                    format!(r#"{{"status":"InProgress","percentComplete":{p}}}"#),
                ),
                Family::Google => json(
                    200,
                    format!(
                        r#"{{"name":"projects/p/operations/op-1","metadata":{{"progressPercent":{p}}},"done":false}}"#
                    ),
                ),
                Family::Waiter => json(200, r#"{"Table":{"TableStatus":"CREATING"}}"#.into()),
            };
            if let Some(secs) = running.retry_after {
                answer.1.push(("retry-after", secs.to_string()));
            }
            answers.push(answer);
        }
        match self.family {
            Family::Graph => answers.push(json(
                200,
                r#"{"status":"completed","resourceId":"R1"}"#.into(),
            )),
            Family::Azure => {
                answers.push(json(200, r#"{"status":"Succeeded"}"#.into()));
                answers.push(json(200, r#"{"id":"R1"}"#.into()));
            }
            Family::Google => answers.push(json(
                200,
                r#"{"name":"projects/p/operations/op-1","done":true,"response":{"name":"R1"}}"#
                    .into(),
            )),
            Family::Waiter => {
                answers.push(json(200, r#"{"Table":{"TableStatus":"ACTIVE"}}"#.into()))
            }
        }
        answers
    }

    fn policy(&self) -> PollPolicy {
        let secs = Duration::from_secs;
        let seed = self.seed;
        let policy = match self.shape {
            Shape::Constant(jitter) => {
                PollPolicy::new(ConstantBuilder::new(secs(3)).with_jitter_seeded(jitter, seed))
            }
            Shape::Exponential(jitter) => PollPolicy::new(
                ExponentialBuilder::new(secs(1), 2.0, secs(40)).with_jitter_seeded(jitter, seed),
            ),
            Shape::Progress => PollPolicy::new(
                ProgressBuilder::new().with_fallback(
                    ExponentialBuilder::new(secs(1), 1.5, secs(30))
                        .with_jitter_seeded(Jitter::Equal, seed),
                ),
            ),
            Shape::Smithy => {
                PollPolicy::new(SmithyBuilder::new(secs(2), secs(120), secs(3600)).with_seed(seed))
            }
            Shape::Delays => {
                PollPolicy::new(from_fn(|| (1..).map(|n| Duration::from_secs(n % 7 + 1))))
            }
        };
        match self.deadline {
            Some(deadline) => policy.with_deadline(secs(deadline)),
            None => policy.without_deadline(),
        }
    }

    fn configure(&self, builder: OperationBuilder) -> OperationBuilder {
        let builder = builder.with_policy(self.policy());
        match self.family {
            Family::Graph => builder.with_protocol_kind(ProtocolKind::Graph),
            Family::Azure => builder.with_protocol_kind(ProtocolKind::Azure),
            Family::Google => builder.with_protocol_kind(ProtocolKind::Google),
            Family::Waiter => builder.with_protocol(
                WaiterProtocol::named(&Waiters::from_json(TABLE).unwrap(), "TableExists").unwrap(),
            ),
        }
    }

    fn script(&self, skip: usize) -> ScriptedTransport {
        let script = ScriptedTransport::new();
        for (code, headers, body) in self.answers().into_iter().skip(skip) {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            script.push_response(code, &headers, body);
        }
        script
    }
}

fn waiter_missing() -> String {
    r#"{"__type":"com.example.tables#ResourceNotFoundException","message":"no table"}"#.into()
}

/// What a run ended with, comparable across runs.
fn summary(outcome: Result<lro_poller::Outcome, Error>) -> String {
    match outcome {
        Ok(outcome) => format!("{:?} {}", outcome.status().status, outcome.polls()),
        Err(Error::GaveUp(gave_up)) => {
            format!("gave up: {:?} {}", gave_up.cause(), gave_up.polls())
        }
        Err(error) => format!("error: {error}"),
    }
}

/// A token as a checkpoint saw it: its text, the requests sent before it,
/// and the time (after [`wall`]).
type Kept = (String, usize, Duration);

/// Runs `case` from its start, or from a token `at` a time after [`wall`]
/// with the first `skip` answers already used; returns the requests, the
/// outcome and every token the checkpoint saw.
fn run(case: &Case, from: Option<(&str, usize, Duration)>) -> (Sent, String, Vec<Kept>) {
    let (skip, at) = from.map_or((0, Duration::ZERO), |(_, skip, at)| (skip, at));
    let timer = VirtualTimer::with_wall_clock(wall() + at);
    let transport = Clocked::new(case.script(skip), timer.clone());
    let kept = Arc::new(Mutex::new(Vec::new()));
    let (seen, stamped, clock) = (Arc::clone(&kept), transport.clone(), timer.clone());
    let store = move |token: &ResumeToken| -> Result<(), Infallible> {
        let at = clock.wall_clock().duration_since(wall()).unwrap();
        let sent = skip + stamped.sent().len();
        seen.lock().unwrap().push((token.to_string(), sent, at));
        Ok(())
    };
    let builder = match from {
        None => Operation::start(transport.clone(), case.start_request()),
        Some((token, ..)) => Operation::resume(transport.clone(), token.parse().unwrap()),
    };
    let operation = case
        .configure(builder)
        .with_timer(timer)
        .with_checkpoint(store)
        .build()
        .unwrap();
    let outcome = summary(block_on(operation.outcome()));
    let kept = kept.lock().unwrap().clone();
    (transport.sent(), outcome, kept)
}

/// Requests alike: the same URLs at exactly the same times.
fn assert_alike(resumed: &[(Duration, String)], original: &[(Duration, String)]) {
    assert_eq!(resumed.len(), original.len(), "{resumed:?} vs {original:?}");
    for ((at, url), (was_at, was_url)) in resumed.iter().zip(original) {
        assert_eq!(url, was_url);
        let apart = at.abs_diff(*was_at);
        assert!(apart.is_zero(), "{resumed:?} vs {original:?}");
    }
}

fn cases() -> impl Strategy<Value = Case> {
    let family = prop_oneof![
        Just(Family::Graph),
        Just(Family::Azure),
        Just(Family::Google),
        Just(Family::Waiter)
    ];
    let jitter = prop_oneof![
        Just(Jitter::None),
        Just(Jitter::Full),
        Just(Jitter::Equal),
        Just(Jitter::Decorrelated)
    ];
    let shape = prop_oneof![
        jitter.clone().prop_map(Shape::Constant),
        jitter.prop_map(Shape::Exponential),
        Just(Shape::Progress),
        Just(Shape::Smithy),
        Just(Shape::Delays),
    ];
    let running = (
        1u8..30,
        proptest::option::weighted(0.3, 0u64..20),
        proptest::bool::weighted(0.15),
    );
    (
        family,
        shape,
        proptest::collection::vec(running, 1..7),
        proptest::option::weighted(0.3, 5u64..200),
        any::<u64>(),
    )
        .prop_map(|(family, shape, running, deadline, seed)| {
            let mut progress = 0u8;
            let running = running
                .into_iter()
                .map(|(step, retry_after, fails_first)| {
                    progress = progress.saturating_add(step).min(99);
                    Running {
                        progress,
                        retry_after,
                        fails_first,
                    }
                })
                .collect();
            Case {
                family,
                shape,
                running,
                deadline,
                seed,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Stopped after any poll (or after its start) and resumed from the
    /// token's text: the same requests at the same times, the same outcome.
    #[test]
    fn resuming_is_indistinguishable_from_never_stopping(case in cases(), pick in any::<prop::sample::Index>()) {
        let (sent, outcome, kept) = run(&case, None);
        prop_assume!(!kept.is_empty());
        let (token, skip, at) = &kept[pick.index(kept.len())];
        let (resumed, resumed_outcome, _) = run(&case, Some((token, *skip, *at)));
        assert_alike(&resumed, &sent[*skip..]);
        prop_assert_eq!(resumed_outcome, outcome);
    }

    /// Resumed after every status, one poll per wake-up: no more polls than
    /// never stopping, at the same times.
    #[test]
    fn resumed_at_every_status_a_job_costs_no_more_polls(case in cases()) {
        let (sent, outcome, _) = run(&case, None);
        let script = Clocked::new(case.script(0), VirtualTimer::with_wall_clock(wall()));
        let mut token: Option<ResumeToken> = None;
        let mut wake_ups = 0;
        let ended = loop {
            wake_ups += 1;
            prop_assert!(wake_ups < 100);
            let at = token
                .as_ref()
                .and_then(ResumeToken::next_poll_at)
                .map_or(Duration::ZERO, |due| due.duration_since(wall()).unwrap());
            // Wakes up a little early: the operation waits until due itself.
            let timer = VirtualTimer::with_wall_clock(wall() + at.saturating_sub(Duration::from_millis(400)).max(
                script.sent().last().map_or(Duration::ZERO, |(t, _)| *t)));
            let transport = script.on(timer.clone());
            let builder = match token.take() {
                None => Operation::start(transport, case.start_request()),
                Some(text) => Operation::resume(transport, text.to_string().parse().unwrap()),
            };
            let mut operation = case.configure(builder).with_timer(timer).build().unwrap();
            match block_on(operation.next()) {
                Some(Ok(status)) if !status.status.is_terminal() => {
                    token = operation.resume_token();
                    prop_assert!(token.is_some());
                }
                Some(Ok(_)) => break summary(block_on(operation.outcome())),
                Some(Err(error)) => break summary(Err(error)),
                None => break summary(block_on(operation.outcome())),
            }
        };
        assert_alike(&script.sent(), &sent);
        prop_assert_eq!(ended, outcome);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// With jitter randomly seeded, a job resumed after every status still
    /// waits within the jitter's bounds between polls: `[d/2, d]` for equal
    /// jitter over a constant 4 s.
    #[test]
    fn resumed_with_random_jitter_every_delay_is_within_its_bounds(
        family in prop_oneof![Just(Family::Graph), Just(Family::Azure), Just(Family::Google)],
        polls in 1usize..8,
    ) {
        let case = Case {
            family,
            shape: Shape::Constant(Jitter::None),
            running: (0..polls)
                .map(|n| Running { progress: n as u8, retry_after: None, fails_first: false })
                .collect(),
            deadline: None,
            seed: 0,
        };
        let policy = PollPolicy::new(
            ConstantBuilder::new(Duration::from_secs(4)).with_jitter(Jitter::Equal),
        )
        .without_deadline();
        let script = Clocked::new(case.script(0), VirtualTimer::with_wall_clock(wall()));
        let mut token: Option<ResumeToken> = None;
        loop {
            let at = token
                .as_ref()
                .and_then(ResumeToken::next_poll_at)
                .map_or(Duration::ZERO, |due| due.duration_since(wall()).unwrap());
            let timer = VirtualTimer::with_wall_clock(wall() + at);
            let transport = script.on(timer.clone());
            let builder = match token.take() {
                None => Operation::start(transport, case.start_request()),
                Some(text) => Operation::resume(transport, text.to_string().parse().unwrap()),
            };
            let mut operation = case
                .configure(builder)
                .with_policy(policy.clone())
                .with_timer(timer)
                .build()
                .unwrap();
            match block_on(operation.next()) {
                Some(Ok(status)) if !status.status.is_terminal() => token = operation.resume_token(),
                _ => break,
            }
        }
        let sent = script.sent();
        let polls: Vec<Duration> = sent
            .iter()
            .filter(|(_, url)| *url != case.start_request().uri().to_string())
            .map(|(at, _)| *at)
            .collect();
        prop_assert_eq!(polls.len(), case.running.len() + 1);
        for pair in polls.windows(2) {
            let gap = pair[1] - pair[0];
            prop_assert!(gap >= Duration::from_secs(2) && gap <= Duration::from_secs(4), "{:?}", sent);
        }
    }
}
