//! The fault matrix (docs/fault-matrix.md), one test per cell: each request
//! the crate sends (a start safe to repeat, a start that is not, a poll, the
//! result fetch, a cancel request) meets each way a server fails (a reset,
//! a stall, a cut body, unreadable JSON, `408`, `429` + `Retry-After`,
//! `500`/`502`/`503`/`504`, a `4xx`, a body over the limit), on a loopback
//! server through the reqwest transport. Each cell asserts what the server
//! received (how many requests, the same body each time, gaps at least the
//! floor — or the `Retry-After`) and what the caller got (the outcome, or
//! the error's kind and whether it carries a token).

mod server;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use lro_poller::policy::{ConstantBuilder, PollPolicy};
use lro_poller::protocol::ProtocolKind;
use lro_poller::transport::ReqwestTransport;
use lro_poller::{Error, Operation, OperationBuilder, RequestKind, RetryNotice};

use server::{FaultServer, Seen, Step, json};

/// The floor between two requests (small, to keep the tests fast).
pub const FLOOR: Duration = Duration::from_millis(50);
/// The `Retry-After` of the `429` column.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);
/// The transport's time-out per request (a stall lasts longer).
const TIMEOUT: Duration = Duration::from_secs(1);
/// The transport's limit on a body.
const BODY_LIMIT: usize = 16 * 1024;

/// Generates one test per cell of a row.
macro_rules! row {
    ($row:expr) => {
        row!($row;
            reset => Column::Reset,
            stall => Column::Stall,
            cut_body => Column::Cut,
            unreadable_json => Column::Unreadable,
            status_408 => Column::Status408,
            status_429_retry_after => Column::Status429,
            status_5xx => Column::Status5xx,
            status_4xx => Column::Status4xx,
            body_over_limit => Column::OverLimit
        );
    };
    ($row:expr; $($name:ident => $column:expr),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                crate::cell($row, $column).await;
            }
        )*
    };
}

mod cancel;
mod poll;
mod result;
mod start;

/// A request the crate sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// A `PUT` start (idempotent).
    StartSafe,
    /// A `POST` start without an idempotency key.
    StartUnsafe,
    /// A poll of the monitor.
    Poll,
    /// The `GET` of the final result.
    Result,
    /// `POST {operation}:cancel`.
    Cancel,
}

/// A way a server fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Reset,
    Stall,
    Cut,
    Unreadable,
    Status408,
    Status429,
    Status5xx,
    Status4xx,
    OverLimit,
}

/// The error a cell ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An error answer with this status.
    Http(u16),
    /// The exchange failed (reset, stall, cut body).
    Transport,
    /// A body over the transport's limit.
    BodyTooLarge,
    /// An answer that could not be understood.
    Protocol,
}

/// The token an error carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// None: the job was never started, or nothing waits on it.
    None,
    /// A token that goes on polling.
    Resume,
    /// A token of a job that succeeded, whose result is left to fetch.
    Result,
}

/// What a cell should give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The request is sent again until it succeeds: the operation (or the
    /// cancel) succeeds.
    Retried,
    /// Sent once; the operation (or the cancel) succeeds all the same.
    OnceFine,
    /// Sent once; the caller gets this error.
    Ends(Kind, Token),
}

impl Column {
    /// The failing steps the server plays before a good answer.
    fn steps(self) -> Vec<Step> {
        match self {
            Column::Reset => vec![Step::Reset],
            Column::Stall => vec![Step::Stall(Duration::from_secs(4))],
            Column::Cut => vec![Step::Cut],
            Column::Unreadable => vec![json(200, r#"{"status":"Runn"#)],
            Column::Status408 => vec![json(408, "")],
            Column::Status429 => vec![json(429, "").header("retry-after", "1")],
            Column::Status5xx => [500, 502, 503, 504]
                .into_iter()
                .map(|code| json(code, r#"{"error":{"code":"Busy","message":"try later"}}"#))
                .collect(),
            Column::Status4xx => vec![json(
                400,
                r#"{"error":{"code":"BadRequest","message":"no such thing"}}"#,
            )],
            Column::OverLimit => {
                let pad = "x".repeat(4 * BODY_LIMIT);
                vec![json(
                    200,
                    &format!(r#"{{"status":"Running","pad":"{pad}"}}"#),
                )]
            }
        }
    }

    /// Whether the failure is transient (worth sending the request again).
    fn transient(self) -> bool {
        matches!(
            self,
            Column::Reset
                | Column::Stall
                | Column::Cut
                | Column::Status408
                | Column::Status429
                | Column::Status5xx
        )
    }

    /// The error of a request that met this failure once.
    fn kind(self) -> Kind {
        match self {
            Column::Reset | Column::Stall | Column::Cut => Kind::Transport,
            Column::Unreadable => Kind::Protocol,
            Column::Status408 => Kind::Http(408),
            Column::Status429 => Kind::Http(429),
            Column::Status5xx => Kind::Http(500),
            Column::Status4xx => Kind::Http(400),
            Column::OverLimit => Kind::BodyTooLarge,
        }
    }
}

/// The documented behaviour of each cell (docs/fault-matrix.md).
pub fn expected(row: Row, column: Column) -> Expect {
    let token = match row {
        Row::StartSafe | Row::StartUnsafe | Row::Cancel => Token::None,
        Row::Poll => Token::Resume,
        Row::Result => Token::Result,
    };
    match (row, column) {
        // Each transient failure is retried, where repeating is safe.
        (Row::StartUnsafe, column) => Expect::Ends(column.kind(), Token::None),
        (_, column) if column.transient() => Expect::Retried,
        // An unreadable poll is a failed read, retried; the result's and a
        // cancel's bodies are not read by the crate.
        (Row::Poll, Column::Unreadable) => Expect::Retried,
        (Row::Result | Row::Cancel, Column::Unreadable) => Expect::OnceFine,
        (_, column) => Expect::Ends(column.kind(), token),
    }
}

impl Row {
    /// The method and path of the row's request.
    fn target(self) -> (&'static str, &'static str) {
        match self {
            Row::StartSafe => ("PUT", "/vms/1"),
            Row::StartUnsafe => ("POST", "/jobs"),
            Row::Poll => ("GET", "/ops/1"),
            Row::Result => ("GET", "/vms/1"),
            Row::Cancel => ("POST", "/v1/operations/op1:cancel"),
        }
    }

    /// What the request is, as a retry notice says.
    fn kind(self) -> RequestKind {
        match self {
            Row::StartSafe | Row::StartUnsafe => RequestKind::Start,
            Row::Poll => RequestKind::Poll,
            Row::Result => RequestKind::Result,
            Row::Cancel => RequestKind::Cancel,
        }
    }
}

const RUNNING_VM: &str = r#"{"id":"vm1","properties":{"provisioningState":"Creating"}}"#;
const DONE: &str = r#"{"status":"Succeeded"}"#;
pub const VM: &str = r#"{"id":"vm1","properties":{"provisioningState":"Succeeded"}}"#;
pub const JOB_RESULT: &str = r#"{"report":"done"}"#;

/// The good answers of every request; the row's request meets `failing`
/// first.
pub fn script(server: &FaultServer, row: Row, failing: Vec<Step>) {
    let good = [
        (
            ("PUT", "/vms/1"),
            json(201, RUNNING_VM).header("azure-asyncoperation", "/ops/1"),
        ),
        (
            ("POST", "/jobs"),
            json(202, "")
                .header("azure-asyncoperation", "/ops/1")
                .header("location", "/results/1"),
        ),
        (("GET", "/ops/1"), json(200, DONE)),
        (("GET", "/vms/1"), json(200, VM)),
        (("GET", "/results/1"), json(200, JOB_RESULT)),
        (("POST", "/v1/operations/op1:cancel"), json(200, "{}")),
    ];
    for ((method, path), answer) in good {
        let mut steps = Vec::new();
        if (method, path) == row.target() {
            steps.extend(failing.iter().cloned());
        }
        steps.push(answer);
        server.on(method, path, steps);
    }
}

/// The transport: a time-out per request and a limit on bodies.
pub fn transport() -> ReqwestTransport {
    ReqwestTransport::default()
        .with_timeout(TIMEOUT)
        .with_body_limit(BODY_LIMIT)
}

/// The policy: polls and retries every `FLOOR`, never under it.
pub fn policy() -> PollPolicy {
    PollPolicy::new(ConstantBuilder::new(FLOOR))
        .with_min_interval(FLOOR)
        .with_deadline(Duration::from_secs(60))
}

/// The retry notices an operation told.
#[derive(Clone, Default)]
pub struct Notices(Arc<Mutex<Vec<RetryNotice>>>);

impl Notices {
    /// `builder`, telling its retries here.
    pub fn watch(&self, builder: OperationBuilder) -> OperationBuilder {
        let notices = Arc::clone(&self.0);
        builder.on_retry(move |notice| notices.lock().unwrap().push(notice.clone()))
    }

    /// The notices so far.
    pub fn all(&self) -> Vec<RetryNotice> {
        self.0.lock().unwrap().clone()
    }
}

/// The start request of a row.
pub fn start_request(server: &FaultServer, row: Row) -> http::Request<Bytes> {
    let (method, path, body) = match row {
        Row::StartUnsafe => ("POST", "/jobs", r#"{"report":"monthly"}"#),
        _ => ("PUT", "/vms/1", r#"{"size":"small"}"#),
    };
    http::Request::builder()
        .method(method)
        .uri(server.url(path))
        .header("content-type", "application/json")
        .body(Bytes::from_static(body.as_bytes()))
        .unwrap()
}

/// Runs the row's request through the crate: the operation's outcome (its
/// result body), or the cancel's.
pub async fn run_row(
    server: &FaultServer,
    row: Row,
    notices: &Notices,
) -> Result<Option<Bytes>, Error> {
    if row == Row::Cancel {
        let builder = Operation::monitor(transport(), server.url("/v1/operations/op1"))
            .with_protocol_kind(ProtocolKind::Google)
            .with_policy(policy());
        let operation = notices.watch(builder).build().unwrap();
        return operation.cancel().await.map(|()| None);
    }
    let builder = Operation::start(transport(), start_request(server, row)).with_policy(policy());
    let operation = notices.watch(builder).build().unwrap();
    operation
        .outcome()
        .await
        .map(|outcome| outcome.body().cloned())
}

/// Checks that the requests in `sent` came at least `floor` apart.
pub fn assert_gaps(cell: &str, sent: &[Seen], floor: Duration) {
    for pair in sent.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(
            gap >= floor,
            "{cell}: a retry came {gap:?} after the previous request, under {floor:?}"
        );
    }
}

/// Checks the error `got` against `kind` and `token`.
pub fn assert_error(cell: &str, got: &Result<Option<Bytes>, Error>, kind: Kind, token: Token) {
    let error = match got {
        Ok(body) => panic!("{cell}: expected a {kind:?} error, got a success ({body:?})"),
        Err(error) => error,
    };
    let actual = match error {
        Error::Request(request) => match request.transport_error() {
            Some(source) if source.is_body_too_large() => Kind::BodyTooLarge,
            Some(_) => Kind::Transport,
            None => Kind::Http(request.status().map_or(0, |s| s.as_u16())),
        },
        Error::Protocol(_) => Kind::Protocol,
        other => panic!("{cell}: expected a {kind:?} error, got {other:?}"),
    };
    assert_eq!(actual, kind, "{cell}: the error's kind ({error})");
    let carried = match error.resume_token() {
        None => Token::None,
        Some(token) if token.result_url().unwrap().is_some() => Token::Result,
        Some(_) => Token::Resume,
    };
    assert_eq!(carried, token, "{cell}: the error's token ({error})");
}

/// One cell: the server fails the row's request the column's way; what it
/// received and what the caller got are as documented.
pub async fn cell(row: Row, column: Column) {
    let cell = format!("{row:?} × {column:?}");
    let server = FaultServer::start().await;
    let failing = column.steps();
    let failures = failing.len();
    script(&server, row, failing);
    let notices = Notices::default();
    let got = run_row(&server, row, &notices).await;
    let (method, path) = row.target();
    let sent = server.seen(method, path);
    let expect = expected(row, column);
    let count = match expect {
        Expect::Retried => failures + 1,
        Expect::OnceFine | Expect::Ends(..) => 1,
    };
    assert_eq!(
        sent.len(),
        count,
        "{cell}: the server received {} {method} {path} request(s), expected {count}",
        sent.len()
    );
    for seen in &sent {
        assert_eq!(
            seen.body, sent[0].body,
            "{cell}: every attempt sends the same body"
        );
    }
    let floor = if column == Column::Status429 {
        RETRY_AFTER
    } else {
        FLOOR
    };
    assert_gaps(&cell, &sent, floor);
    let notices = notices.all();
    assert_eq!(
        notices.len(),
        count - 1,
        "{cell}: one retry notice per retry"
    );
    for (i, notice) in notices.iter().enumerate() {
        assert_eq!(
            notice.request,
            row.kind(),
            "{cell}: the notice names the request"
        );
        assert_eq!(
            notice.attempt as usize,
            i + 2,
            "{cell}: the notice's attempt"
        );
        assert!(
            notice.delay >= FLOOR,
            "{cell}: the notice's delay is under the floor"
        );
    }
    match expect {
        Expect::Retried | Expect::OnceFine => match &got {
            Ok(body) => {
                let wanted = match (row, column) {
                    (Row::Result, Column::Unreadable) => Some(r#"{"status":"Runn"#),
                    (Row::StartUnsafe, _) => Some(JOB_RESULT),
                    (Row::Cancel, _) => None,
                    _ => Some(VM),
                };
                assert_eq!(
                    body.as_deref(),
                    wanted.map(str::as_bytes),
                    "{cell}: the result the caller got"
                );
            }
            Err(error) => panic!("{cell}: expected a success, got {error:?}"),
        },
        Expect::Ends(kind, token) => assert_error(&cell, &got, kind, token),
    }
}
