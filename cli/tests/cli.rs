//! The `lro` binary against real loopback HTTP servers: its JSON lines, its
//! final line, its exit status, and what reaches the server.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

// ---------------------------------------------------------------- the server

/// One request the server received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
    /// How many requests to this path came before this one.
    hit: usize,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An answer: status, headers, body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: body.to_owned(),
    }
}

impl Reply {
    fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

type Script = dyn Fn(&Seen) -> Reply + Send + Sync;

struct Shared {
    script: Box<Script>,
    seen: Mutex<Vec<Seen>>,
}

/// A real HTTP server on 127.0.0.1, answering every request with `script`,
/// on its own thread and runtime; stopped when dropped.
struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Server {
    fn start(script: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Server {
        let shared = Arc::new(Shared {
            script: Box::new(script),
            seen: Mutex::new(Vec::new()),
        });
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = Arc::clone(&shared);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                addr_tx.send(listener.local_addr().expect("addr")).ok();
                let app = Router::new().fallback(handle).with_state(state);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        stopped.await.ok();
                    })
                    .await
                    .ok();
            });
        });
        let addr = addr_rx.recv().expect("server address");
        Server {
            addr,
            shared,
            stop: Some(stop),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    fn seen_at(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let seen = {
        let mut all = shared.seen.lock().unwrap();
        let path = parts.uri.path().to_owned();
        let hit = all.iter().filter(|s| s.path == path).count();
        let seen = Seen {
            method: parts.method.to_string(),
            path,
            headers: parts.headers.clone(),
            body,
            hit,
        };
        all.push(seen.clone());
        seen
    };
    let answer = (shared.script)(&seen);
    let mut response = Response::builder().status(StatusCode::from_u16(answer.status).unwrap());
    for (name, value) in &answer.headers {
        response = response.header(name.as_str(), value.as_str());
    }
    if !answer.body.is_empty() {
        response = response.header("content-type", "application/json");
    }
    response.body(Body::from(answer.body)).unwrap()
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

// ---------------------------------------------------------------- the binary

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}\n{}", self.stderr))
            })
            .collect()
    }

    fn statuses(&self) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|l| l["event"] == "status")
            .collect()
    }

    /// The last line, after checking it is the only final one.
    fn last(&self) -> Value {
        let lines = self.lines();
        let finals: Vec<_> = lines.iter().filter(|l| l["event"] != "status").collect();
        assert_eq!(finals.len(), 1, "one final line: {}", self.stdout);
        let last = lines.last().cloned().unwrap();
        assert_eq!(&last, finals[0], "the final line comes last");
        last
    }

    fn everything(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

fn finish(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn lro(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_lro"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run lro");
    finish(output)
}

/// `lro ARGS` with `input` on its stdin.
fn lro_with_stdin(args: &[&str], input: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lro"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run lro");
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, input.as_bytes()).unwrap();
    drop(stdin);
    finish(child.wait_with_output().expect("wait for lro"))
}

const FAST: &[&str] = &[
    "--interval",
    "0.05",
    "--min-interval",
    "0",
    "--timeout",
    "30",
];

fn lro_json(args: &[&str]) -> Run {
    let mut all: Vec<&str> = args.to_vec();
    all.extend_from_slice(FAST);
    all.push("--json");
    lro(&all)
}

fn percentages(run: &Run) -> Vec<f64> {
    run.statuses()
        .iter()
        .filter_map(|s| s["percentageComplete"].as_f64())
        .collect()
}

/// A Graph copy: `POST /copy` → `202` + relative `Location: /monitor/1`,
/// then `notStarted`, `inProgress` 27.8 (202), 63.5 (200), and `303`
/// completed with the item's id.
fn graph_copy(monitor_query: &'static str) -> Server {
    Server::start(move |seen| {
        match (seen.path.as_str(), seen.hit) {
        ("/copy", _) => reply(202, "").header("location", format!("/monitor/1{monitor_query}")),
        ("/monitor/1", 0) => reply(202, r#"{"operation":"ItemCopy","status":"notStarted"}"#),
        ("/monitor/1", 1) => reply(
            202,
            r#"{"operation":"ItemCopy","percentageComplete":27.8,"status":"inProgress"}"#,
        ),
        ("/monitor/1", 2) => reply(
            200,
            r#"{"operation":"ItemCopy","percentageComplete":63.5,"status":"inProgress"}"#,
        ),
        ("/monitor/1", _) => reply(
            303,
            r#"{"percentageComplete":100.0,"resourceId":"01MOWKALTXPSWA4NCTOJE3R7KMMEZ3SZO6","status":"completed"}"#,
        )
        .header("location", "/items/01MOWKALTXPSWA4NCTOJE3R7KMMEZ3SZO6"),
        _ => reply(404, r#"{"error":{"code":"itemNotFound","message":"no such path"}}"#),
    }
    })
}

// ---------------------------------------------------------------- scenarios

#[test]
fn graph_copy_reports_each_status_in_order_then_the_new_item() {
    let server = graph_copy("");
    let run = lro_json(&[
        "start",
        &server.url("/copy"),
        "-d",
        r#"{"name":"copy.txt"}"#,
    ]);
    assert_eq!(run.code, 0, "{}", run.everything());
    let states: Vec<_> = run
        .statuses()
        .iter()
        .map(|s| s["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        states,
        ["notStarted", "inProgress", "inProgress", "completed"]
    );
    assert_eq!(percentages(&run), [27.8, 63.5, 100.0]);
    assert_eq!(run.statuses()[1]["operation"], "ItemCopy");
    let last = run.last();
    assert_eq!(last["event"], "outcome");
    assert_eq!(last["outcome"], "succeeded");
    assert_eq!(last["status"], "completed");
    assert_eq!(last["resourceId"], "01MOWKALTXPSWA4NCTOJE3R7KMMEZ3SZO6");
    assert_eq!(last["error"], Value::Null);
    let start = &server.seen_at("/copy")[0];
    assert_eq!(start.method, "POST");
    assert_eq!(start.header("prefer"), Some("respond-async"));
    assert_eq!(start.header("content-type"), Some("application/json"));
    // Nothing is sent after the terminal status.
    assert_eq!(server.seen_at("/monitor/1").len(), 4);
}

#[test]
fn watch_follows_a_running_operation() {
    let server = Server::start(|seen| match seen.hit {
        0 => reply(202, r#"{"status":"inProgress","percentageComplete":40}"#),
        _ => reply(200, r#"{"status":"completed","resourceId":"item-9"}"#),
    });
    let run = lro_json(&["watch", &server.url("/monitor/9")]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(percentages(&run), [40.0]);
    assert_eq!(run.last()["resourceId"], "item-9");
    assert!(server.seen().iter().all(|s| s.method == "GET"));
}

#[test]
fn a_failed_job_exits_1_with_the_service_error() {
    let server = Server::start(|seen| match seen.hit {
        0 => reply(200, r#"{"status":"inProgress","percentageComplete":10}"#),
        _ => reply(
            200,
            r#"{"status":"Failed","statusDescription":"Completed 0/1 files",
                "error":{"code":"nameAlreadyExists","message":"an item with that name exists"}}"#,
        ),
    });
    let run = lro_json(&["watch", &server.url("/monitor/1")]);
    assert_eq!(run.code, 1, "{}", run.everything());
    let last = run.last();
    assert_eq!(last["event"], "outcome");
    assert_eq!(last["outcome"], "failed");
    assert_eq!(last["status"], "failed");
    assert_eq!(last["result"], Value::Null);
    assert_eq!(last["error"]["code"], "nameAlreadyExists");
    assert_eq!(last["error"]["message"], "an item with that name exists");
}

#[test]
fn a_failure_given_as_error_code_and_description_is_shown_too() {
    let server = Server::start(|_| {
        reply(
            200,
            r#"{"status":"deleteFailed","errorCode":"accessDenied","statusDescription":"locked"}"#,
        )
    });
    let run = lro_json(&["watch", &server.url("/monitor/1")]);
    assert_eq!(run.code, 1, "{}", run.everything());
    let last = run.last();
    assert_eq!(last["outcome"], "failed");
    assert_eq!(last["status"], "deleteFailed");
    assert_eq!(last["error"]["code"], "accessDenied");
    assert_eq!(last["error"]["message"], "locked");
}

#[test]
fn a_cancelled_job_exits_1_as_canceled() {
    let server = Server::start(|_| reply(200, r#"{"status":"cancelled"}"#));
    let run = lro_json(&["watch", &server.url("/monitor/1")]);
    assert_eq!(run.code, 1, "{}", run.everything());
    let last = run.last();
    assert_eq!(last["outcome"], "canceled");
    assert_eq!(last["status"], "cancelled");
}

#[test]
fn a_rejected_start_exits_2_with_the_http_status_and_service_error() {
    for status in [400, 401] {
        let server = Server::start(move |_| {
            reply(
                status,
                r#"{"error":{"code":"invalidRequest","message":"the name is missing"}}"#,
            )
        });
        let run = lro_json(&["start", &server.url("/copy")]);
        assert_eq!(run.code, 2, "{}", run.everything());
        let last = run.last();
        assert_eq!(last["event"], "error");
        assert_eq!(last["kind"], "http");
        assert_eq!(last["httpStatus"], status);
        assert_eq!(last["error"]["code"], "invalidRequest");
        assert!(run.stderr.contains("invalidRequest"), "{}", run.stderr);
        // A rejected start is not retried.
        assert_eq!(server.seen().len(), 1);
    }
}

#[test]
fn a_monitor_that_expires_midway_exits_2() {
    let server = Server::start(|seen| match seen.hit {
        0 => reply(202, r#"{"status":"inProgress","percentageComplete":5}"#),
        _ => reply(
            404,
            r#"{"error":{"code":"operationNotFound","message":"expired"}}"#,
        ),
    });
    let run = lro_json(&["watch", &server.url("/monitor/1")]);
    assert_eq!(run.code, 2, "{}", run.everything());
    assert_eq!(percentages(&run), [5.0]);
    let last = run.last();
    assert_eq!(last["event"], "error");
    assert_eq!(last["kind"], "expired");
    assert_eq!(last["httpStatus"], 404);
    assert_eq!(last["error"]["code"], "operationNotFound");
}

#[test]
fn garbage_from_the_monitor_is_a_protocol_error() {
    let server = Server::start(|_| reply(200, "<html>hello</html>"));
    let run = lro_json(&["watch", &server.url("/monitor/1")]);
    assert_eq!(run.code, 2, "{}", run.everything());
    let last = run.last();
    assert_eq!(last["kind"], "protocol");
    assert_eq!(last["httpStatus"], 200);
    assert!(run.statuses().is_empty());
}

#[test]
fn a_job_that_never_ends_hits_the_timeout() {
    let server = Server::start(|_| reply(202, r#"{"status":"inProgress"}"#));
    let run = lro(&[
        "watch",
        &server.url("/monitor/1"),
        "--interval",
        "0.05",
        "--min-interval",
        "0",
        "--timeout",
        "0.4",
        "--json",
    ]);
    assert_eq!(run.code, 2, "{}", run.everything());
    let last = run.last();
    assert_eq!(last["event"], "error");
    assert_eq!(last["kind"], "deadline");
    assert_eq!(last["httpStatus"], Value::Null);
    assert!(!run.statuses().is_empty());
}

#[test]
fn an_unreachable_server_is_a_transport_error() {
    let url = format!("http://127.0.0.1:{}/copy", closed_port());
    let run = lro_json(&["start", &url]);
    assert_eq!(run.code, 2, "{}", run.everything());
    assert_eq!(run.last()["kind"], "transport");
}

#[test]
fn usage_errors_exit_64() {
    let cases: &[&[&str]] = &[
        &[],
        &["start"],
        &["watch"],
        &["frobnicate", "http://127.0.0.1:9/x"],
        &["start", "--bogus", "http://127.0.0.1:9/x"],
        &["start", "--protocol", "soap", "http://127.0.0.1:9/x"],
        &["start", "-H", "no colon here", "http://127.0.0.1:9/x"],
        &["start", "-H", "Bad Name: v", "http://127.0.0.1:9/x"],
        &["start", "--interval", "-1", "http://127.0.0.1:9/x"],
        &["start", "--timeout", "soon", "http://127.0.0.1:9/x"],
        &[
            "start",
            "--final-state-via",
            "carrier-pigeon",
            "http://127.0.0.1:9/x",
        ],
        &["start", "-X", "B@D", "http://127.0.0.1:9/x"],
        &["start", "not a url"],
        &["start", "ftp://127.0.0.1/x"],
        &["watch", "/relative/monitor"],
        &[
            "start",
            "-d",
            "@/nonexistent/body.json",
            "http://127.0.0.1:9/x",
        ],
        &["watch", "-X", "PUT", "http://127.0.0.1:9/x"],
    ];
    for args in cases {
        let run = lro(args);
        assert_eq!(run.code, 64, "{args:?}: {}", run.everything());
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert!(!run.stderr.trim().is_empty(), "{args:?}");
    }
}

#[test]
fn usage_errors_are_json_lines_with_json() {
    for args in [
        &["start", "--json", "-H", "nope", "http://127.0.0.1:9/x"][..],
        &[
            "start",
            "--json",
            "--protocol",
            "soap",
            "http://127.0.0.1:9/x",
        ][..],
    ] {
        let run = lro(args);
        assert_eq!(run.code, 64, "{}", run.everything());
        let last = run.last();
        assert_eq!(last["event"], "error");
        assert_eq!(last["kind"], "usage");
    }
}

#[test]
fn help_and_version_exit_0() {
    let help = lro(&["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("start") && help.stdout.contains("watch"));
    assert!(help.stdout.contains("resume") && help.stdout.contains("cancel"));
    let start_help = lro(&["start", "--help"]);
    assert_eq!(start_help.code, 0);
    for option in [
        "--method",
        "--header",
        "--data",
        "--final-state-via",
        "--ignore-retry-after",
        "--no-wait",
    ] {
        assert!(start_help.stdout.contains(option), "{option}");
    }
    let version = lro(&["--version"]);
    assert_eq!(version.code, 0);
    assert!(version.stdout.contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn credentials_reach_the_start_and_same_origin_azure_polls() {
    let server = Server::start(|seen| match (seen.path.as_str(), seen.hit) {
        ("/start", _) => reply(202, "").header("operation-location", "/operations/1"),
        ("/operations/1", 0) => reply(200, r#"{"status":"Running","percentComplete":50}"#),
        ("/operations/1", _) => reply(200, r#"{"status":"Succeeded","result":{"id":"r"}}"#),
        _ => reply(404, ""),
    });
    let run = lro_json(&[
        "start",
        &server.url("/start"),
        "-H",
        "Authorization: Bearer t0ken",
        "-H",
        "X-Trace: abc",
        "--final-state-via",
        "operation-location",
    ]);
    assert_eq!(run.code, 0, "{}", run.everything());
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    for request in &seen {
        assert_eq!(
            request.header("authorization"),
            Some("Bearer t0ken"),
            "{}",
            request.path
        );
        assert_eq!(request.header("x-trace"), Some("abc"), "{}", request.path);
    }
    assert_eq!(run.last()["result"], json!({"id": "r"}));
}

#[test]
fn credentials_do_not_reach_graph_monitor_polls() {
    let server = graph_copy("");
    let run = lro_json(&[
        "start",
        &server.url("/copy"),
        "-H",
        "Authorization: Bearer t0ken",
        "-H",
        "X-Trace: abc",
    ]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(
        server.seen_at("/copy")[0].header("authorization"),
        Some("Bearer t0ken")
    );
    let polls = server.seen_at("/monitor/1");
    assert_eq!(polls.len(), 4);
    for poll in &polls {
        assert_eq!(poll.header("authorization"), None);
        // Same origin: the other headers go along.
        assert_eq!(poll.header("x-trace"), Some("abc"));
    }
}

#[test]
fn no_header_follows_a_monitor_to_another_origin() {
    let monitor = Server::start(|seen| match seen.hit {
        0 => reply(200, r#"{"status":"Running"}"#),
        _ => reply(200, r#"{"status":"Succeeded"}"#),
    });
    let operations = monitor.url("/operations/1");
    let api = Server::start(move |_| reply(202, "").header("azure-asyncoperation", &operations));
    let run = lro_json(&[
        "start",
        &api.url("/start"),
        "-H",
        "Authorization: Bearer t0ken",
        "-H",
        "X-Trace: abc",
        "-H",
        "Cookie: session=s3cret",
        "--final-state-via",
        "azure-async-operation",
    ]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(api.seen()[0].header("authorization"), Some("Bearer t0ken"));
    let polls = monitor.seen();
    assert_eq!(polls.len(), 2);
    for poll in &polls {
        assert_eq!(poll.header("authorization"), None);
        assert_eq!(poll.header("x-trace"), None);
        assert_eq!(poll.header("cookie"), None);
    }
}

#[test]
fn watch_sends_credentials_to_the_monitor_only_when_the_protocol_wants_them() {
    for (protocol, expected) in [("azure", Some("Bearer t0ken")), ("auto", None)] {
        let server = Server::start(|seen| match seen.hit {
            0 => reply(200, r#"{"status":"Running"}"#),
            _ => reply(200, r#"{"status":"Succeeded"}"#),
        });
        let run = lro_json(&[
            "watch",
            &server.url("/operations/1"),
            "--protocol",
            protocol,
            "-H",
            "Authorization: Bearer t0ken",
            "-H",
            "X-Trace: abc",
        ]);
        assert_eq!(run.code, 0, "{}", run.everything());
        let polls = server.seen();
        assert_eq!(polls.len(), 2);
        for poll in polls {
            assert_eq!(poll.header("authorization"), expected, "{protocol}");
            assert_eq!(poll.header("x-trace"), Some("abc"), "{protocol}");
        }
    }
}

fn assert_no_secret(run: &Run) {
    assert!(
        !run.everything().contains("SECRET"),
        "the monitor's token was printed:\n{}",
        run.everything()
    );
}

#[test]
fn a_monitor_token_is_never_printed() {
    // A whole successful run, in both modes.
    let server = graph_copy("?tempauth=SECRET");
    let json = lro_json(&["start", &server.url("/copy")]);
    assert_eq!(json.code, 0, "{}", json.everything());
    assert_no_secret(&json);
    let human = lro(&[
        "start",
        &server.url("/copy"),
        "--interval",
        "0.05",
        "--min-interval",
        "0",
    ]);
    assert_eq!(human.code, 0, "{}", human.everything());
    assert_no_secret(&human);

    // Errors that quote the monitor URL: expired, garbage, an HTTP error.
    for (status, body) in [
        (404, r#"{"error":{"code":"operationNotFound"}}"#),
        (200, "garbage"),
        (403, "forbidden"),
    ] {
        let server = Server::start(move |_| reply(status, body));
        let url = server.url("/monitor/1?tempauth=SECRET");
        for json in [true, false] {
            let mut args = vec![
                "watch",
                url.as_str(),
                "--interval",
                "0.05",
                "--min-interval",
                "0",
            ];
            if json {
                args.push("--json");
            }
            let run = lro(&args);
            assert_eq!(run.code, 2, "{}", run.everything());
            assert!(
                run.everything().contains("/monitor/1"),
                "{}",
                run.everything()
            );
            assert_no_secret(&run);
        }
    }

    // Usage errors that quote the URL.
    for args in [
        &[
            "watch",
            "http://127.0.0.1:9/m",
            "http://127.0.0.1:9/m?tempauth=SECRET",
        ][..],
        &[
            "watch",
            "--json",
            "http://127.0.0.1:9/m",
            "http://127.0.0.1:9/m?tempauth=SECRET",
        ][..],
    ] {
        let run = lro(args);
        assert_eq!(run.code, 64, "{}", run.everything());
        assert!(
            run.everything().contains("127.0.0.1:9/m?…"),
            "{}",
            run.everything()
        );
        assert_no_secret(&run);
    }
}

#[test]
fn azure_operation_location_result_is_fetched_from_location() {
    let server = Server::start(|seen| match (seen.path.as_str(), seen.hit) {
        ("/translate", _) => reply(202, "")
            .header("operation-location", "/operations/7")
            .header("location", "/results/7")
            .header("retry-after", "0"),
        ("/operations/7", 0) => reply(200, r#"{"id":"7","status":"NotStarted"}"#),
        ("/operations/7", 1) => reply(200, r#"{"id":"7","status":"Running","percentComplete":60}"#),
        ("/operations/7", _) => reply(200, r#"{"id":"7","status":"Succeeded"}"#),
        ("/results/7", _) => reply(200, r#"{"id":"doc-7","words":1234}"#),
        _ => reply(404, ""),
    });
    let run = lro_json(&["start", &server.url("/translate"), "-d", "{}"]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(percentages(&run), [60.0]);
    let last = run.last();
    assert_eq!(last["outcome"], "succeeded");
    assert_eq!(last["result"], json!({"id": "doc-7", "words": 1234}));
    assert_eq!(server.seen_at("/results/7").len(), 1);
}

#[test]
fn azure_put_result_comes_from_the_original_uri() {
    let server = Server::start(
        |seen| match (seen.method.as_str(), seen.path.as_str(), seen.hit) {
            ("PUT", "/vaults/v1", _) => reply(
                201,
                r#"{"id":"/vaults/v1","properties":{"provisioningState":"Creating"}}"#,
            )
            .header("azure-asyncoperation", "/operations/v1"),
            (_, "/operations/v1", 0) => reply(200, r#"{"status":"InProgress"}"#),
            (_, "/operations/v1", _) => reply(200, r#"{"status":"Succeeded"}"#),
            ("GET", "/vaults/v1", _) => reply(
                200,
                r#"{"id":"/vaults/v1","properties":{"provisioningState":"Succeeded"}}"#,
            ),
            _ => reply(405, ""),
        },
    );
    let run = lro_json(&[
        "start",
        "-X",
        "put",
        &server.url("/vaults/v1"),
        "-d",
        r#"{"location":"westeurope"}"#,
    ]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(
        run.last()["result"]["properties"]["provisioningState"],
        "Succeeded"
    );
    let methods: Vec<_> = server
        .seen()
        .iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(methods.first().map(String::as_str), Some("PUT /vaults/v1"));
    assert_eq!(methods.last().map(String::as_str), Some("GET /vaults/v1"));
}

#[test]
fn a_result_that_is_not_json_is_a_json_string() {
    let server = Server::start(|seen| match seen.path.as_str() {
        "/start" => reply(202, "")
            .header("operation-location", "/operations/1")
            .header("location", "/results/1"),
        "/operations/1" => reply(200, r#"{"status":"Succeeded"}"#),
        _ => reply(200, "plain text result"),
    });
    let run = lro_json(&["start", &server.url("/start")]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(run.last()["result"], "plain text result");
}

#[test]
fn google_operation_runs_to_its_response() {
    let server = Server::start(|seen| match (seen.path.as_str(), seen.hit) {
        ("/v1/projects/p/instances", _) => reply(
            200,
            r#"{"name":"operations/op-1","done":false,"metadata":{"progressPercent":10}}"#,
        ),
        ("/v1/operations/op-1", 0) => reply(
            200,
            r#"{"name":"operations/op-1","done":false,"metadata":{"progressPercent":55}}"#,
        ),
        ("/v1/operations/op-1", _) => reply(
            200,
            r#"{"name":"operations/op-1","done":true,"metadata":{"progressPercent":100},
                "response":{"name":"projects/p/instances/i-1","state":"READY"}}"#,
        ),
        _ => reply(404, ""),
    });
    let run = lro_json(&["start", &server.url("/v1/projects/p/instances"), "-d", "{}"]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(percentages(&run), [10.0, 55.0, 100.0]);
    let last = run.last();
    assert_eq!(last["resourceId"], "projects/p/instances/i-1");
    assert_eq!(last["result"]["state"], "READY");
}

#[test]
fn google_operation_error_and_cancellation_exit_1() {
    for (error, outcome, code, message) in [
        (
            r#"{"code":9,"message":"quota exceeded"}"#,
            "failed",
            "9",
            "quota exceeded",
        ),
        (
            r#"{"code":1,"message":"cancelled by user"}"#,
            "canceled",
            "1",
            "cancelled by user",
        ),
    ] {
        let body = format!(r#"{{"name":"operations/x","done":true,"error":{error}}}"#);
        let server = Server::start(move |_| reply(200, &body));
        let run = lro_json(&[
            "watch",
            &server.url("/v1/operations/x"),
            "--protocol",
            "google",
        ]);
        assert_eq!(run.code, 1, "{}", run.everything());
        let last = run.last();
        assert_eq!(last["outcome"], outcome);
        assert_eq!(last["error"]["code"], code);
        assert_eq!(last["error"]["message"], message);
    }
}

#[test]
fn a_body_from_a_file_arrives_at_the_server() {
    let server = Server::start(|seen| match seen.path.as_str() {
        "/copy" => reply(202, "").header("location", "/monitor/1"),
        _ => reply(200, r#"{"status":"completed","resourceId":"x"}"#),
    });
    let dir = std::env::temp_dir().join(format!("lro-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("body.json");
    let body = r#"{"parentReference":{"id":"folder-1"},"name":"copy.txt"}"#;
    std::fs::write(&file, body).unwrap();
    let arg = format!("@{}", file.display());
    let run = lro_json(&[
        "start",
        &server.url("/copy"),
        "-d",
        &arg,
        "-H",
        "Content-Type: application/vnd.custom+json",
    ]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(run.code, 0, "{}", run.everything());
    let start = &server.seen_at("/copy")[0];
    assert_eq!(start.body, body.as_bytes());
    // A -H Content-Type wins over the default, and is sent once.
    let types: Vec<_> = start.headers.get_all("content-type").iter().collect();
    assert_eq!(types, ["application/vnd.custom+json"]);
    // The body's headers stay on the start request.
    for poll in server.seen_at("/monitor/1") {
        assert_eq!(poll.header("content-type"), None);
        assert!(poll.body.is_empty());
    }
}

#[test]
fn cookies_from_the_start_come_back_on_polls() {
    let server = Server::start(|seen| match seen.path.as_str() {
        "/copy" => reply(202, "")
            .header("location", "/monitor/1")
            .header("set-cookie", "ARRAffinity=node-3; Path=/"),
        _ if seen.hit == 0 => reply(202, r#"{"status":"inProgress"}"#),
        _ => reply(303, r#"{"status":"completed"}"#),
    });
    let run = lro_json(&["start", &server.url("/copy")]);
    assert_eq!(run.code, 0, "{}", run.everything());
    let polls = server.seen_at("/monitor/1");
    assert_eq!(polls.len(), 2);
    for poll in polls {
        assert_eq!(poll.header("cookie"), Some("ARRAffinity=node-3"));
    }
}

#[test]
fn ignore_retry_after_polls_at_the_interval() {
    // Honoured, a one-hour Retry-After would outlast the 30 s timeout.
    let server = Server::start(|seen| match (seen.path.as_str(), seen.hit) {
        ("/copy", _) => reply(202, "")
            .header("location", "/monitor/1")
            .header("retry-after", "3600"),
        (_, 0) => reply(202, r#"{"status":"inProgress"}"#).header("retry-after", "3600"),
        _ => reply(200, r#"{"status":"completed"}"#),
    });
    let run = lro_json(&["start", &server.url("/copy"), "--ignore-retry-after"]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(server.seen_at("/monitor/1").len(), 2);
}

#[test]
fn a_synchronous_answer_is_a_completed_operation() {
    let server = Server::start(|_| reply(201, r#"{"id":"item-1","name":"copy.txt"}"#));
    let run = lro_json(&["start", &server.url("/copy")]);
    assert_eq!(run.code, 0, "{}", run.everything());
    let last = run.last();
    assert_eq!(last["outcome"], "succeeded");
    assert_eq!(last["resourceId"], "item-1");
    assert_eq!(last["result"]["name"], "copy.txt");
}

#[test]
fn human_mode_ends_with_the_outcome_and_resource_id() {
    let server = graph_copy("");
    let run = lro(&[
        "start",
        &server.url("/copy"),
        "--interval",
        "0.05",
        "--min-interval",
        "0",
    ]);
    assert_eq!(run.code, 0, "{}", run.everything());
    let last = run.stdout.lines().last().unwrap_or_default();
    assert!(last.contains("succeeded"), "{}", run.stdout);
    assert!(
        last.contains("01MOWKALTXPSWA4NCTOJE3R7KMMEZ3SZO6"),
        "{}",
        run.stdout
    );
    // Status updates go to stderr, never as JSON.
    assert!(run.stderr.contains("inProgress"), "{}", run.stderr);
    assert!(run.stderr.contains("27.8"), "{}", run.stderr);
    assert!(!run.stdout.contains('{'));
}

#[test]
fn human_mode_shows_a_failure_and_exits_1() {
    let server = Server::start(|_| {
        reply(
            200,
            r#"{"status":"failed","error":{"code":"generalException","message":"boom"}}"#,
        )
    });
    let run = lro(&["watch", &server.url("/monitor/1")]);
    assert_eq!(run.code, 1, "{}", run.everything());
    let last = run.stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with("failed"), "{}", run.stdout);
    assert!(last.contains("generalException: boom"), "{}", run.stdout);
}

// ------------------------------------------------- resume tokens and cancel

/// The token of a `start --no-wait --json` run, after checking its line.
fn started_token(run: &Run, protocol: &str) -> String {
    assert_eq!(run.code, 0, "{}", run.everything());
    let last = run.last();
    assert_eq!(last["event"], "started", "{}", run.stdout);
    assert_eq!(last["protocol"], protocol);
    let token = last["token"].as_str().expect("a token").to_owned();
    assert!(token.starts_with("lro1."), "{token}");
    token
}

/// `lro start URL --no-wait --json` (plus `extra`): the token.
fn start_no_wait(url: &str, protocol: &str, extra: &[&str]) -> String {
    let mut args = vec!["start", url, "--no-wait"];
    args.extend_from_slice(extra);
    started_token(&lro_json(&args), protocol)
}

/// An outcome line with the server's address taken out of `location`.
fn outcome_line(run: &Run, server: &Server) -> Value {
    let mut last = run.last();
    assert_eq!(last["event"], "outcome", "{}", run.stdout);
    if let Some(location) = last["location"].as_str() {
        last["location"] = Value::String(location.replace(&server.url(""), ""));
    }
    last
}

#[test]
fn no_wait_then_resume_in_another_process_reaches_the_same_outcome() {
    let whole = graph_copy("");
    let uninterrupted = lro_json(&["start", &whole.url("/copy"), "-d", "{}"]);
    assert_eq!(uninterrupted.code, 0, "{}", uninterrupted.everything());

    let server = graph_copy("");
    let token = start_no_wait(&server.url("/copy"), "graph", &["-d", "{}"]);
    // The start was answered, and nothing else sent.
    assert_eq!(server.seen().len(), 1, "{:?}", server.seen());

    let resumed = lro_json(&["resume", &token]);
    assert_eq!(resumed.code, 0, "{}", resumed.everything());
    assert_eq!(resumed.statuses(), uninterrupted.statuses());
    assert_eq!(
        outcome_line(&resumed, &server),
        outcome_line(&uninterrupted, &whole)
    );
    assert_eq!(server.seen_at("/copy").len(), 1);
    assert_eq!(server.seen_at("/monitor/1").len(), 4);
}

#[test]
fn human_no_wait_prints_the_token_alone_and_resume_reads_it_from_stdin() {
    let server = graph_copy("?tempauth=SECRET");
    let started = lro(&["start", &server.url("/copy"), "--no-wait"]);
    assert_eq!(started.code, 0, "{}", started.everything());
    let lines: Vec<_> = started.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", started.stdout);
    assert!(lines[0].starts_with("lro1."), "{}", started.stdout);
    assert!(!started.stderr.contains("lro1."), "{}", started.stderr);

    let resumed = lro_with_stdin(
        &["resume", "-", "--interval", "0.05", "--min-interval", "0"],
        &started.stdout,
    );
    assert_eq!(resumed.code, 0, "{}", resumed.everything());
    let last = resumed.stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with("succeeded"), "{}", resumed.stdout);
    assert!(
        last.contains("01MOWKALTXPSWA4NCTOJE3R7KMMEZ3SZO6"),
        "{last}"
    );
    assert_no_secret(&resumed);
    assert_eq!(server.seen_at("/copy").len(), 1);
    assert_eq!(server.seen_at("/monitor/1").len(), 4);
}

#[test]
fn no_wait_on_a_synchronous_answer_reports_the_outcome() {
    let server = Server::start(|_| reply(201, r#"{"id":"item-1","name":"copy.txt"}"#));
    let json = lro_json(&["start", &server.url("/copy"), "--no-wait"]);
    assert_eq!(json.code, 0, "{}", json.everything());
    let last = json.last();
    assert_eq!(last["event"], "outcome");
    assert_eq!(last["outcome"], "succeeded");
    assert_eq!(last["resourceId"], "item-1");
    let human = lro(&["start", &server.url("/copy"), "--no-wait"]);
    assert_eq!(human.code, 0, "{}", human.everything());
    assert_eq!(human.stdout.trim(), "succeeded: resource id item-1");
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn a_deadline_counts_from_the_original_start_across_a_resume() {
    let server = Server::start(|seen| match seen.path.as_str() {
        "/copy" => reply(202, "").header("location", "/monitor/1"),
        _ => reply(202, r#"{"status":"inProgress"}"#),
    });
    let token = start_no_wait(&server.url("/copy"), "graph", &[]);
    // Longer than the --timeout given to the resume.
    std::thread::sleep(std::time::Duration::from_millis(600));
    let resumed = lro(&[
        "resume",
        &token,
        "--timeout",
        "0.3",
        "--interval",
        "0.05",
        "--min-interval",
        "0",
        "--json",
    ]);
    assert_eq!(resumed.code, 2, "{}", resumed.everything());
    let last = resumed.last();
    assert_eq!(last["event"], "error");
    assert_eq!(last["kind"], "deadline");
    // The error carries a token to go on with (a longer --timeout).
    assert!(
        last["token"]
            .as_str()
            .is_some_and(|t| t.starts_with("lro1.")),
        "{last}"
    );
    // Human mode says how to go on.
    let human = lro(&["resume", &token, "--timeout", "0.3"]);
    assert_eq!(human.code, 2, "{}", human.everything());
    assert!(
        human.stderr.contains("resume with: lro resume lro1."),
        "{}",
        human.stderr
    );
    assert!(human.stdout.is_empty(), "{}", human.stdout);
    // No poll was sent after either resume: the deadline had passed.
    assert!(server.seen_at("/monitor/1").is_empty());
}

/// An Azure `Operation-Location` service whose job runs until it is asked
/// to cancel (`POST /operations/1:cancel` answered with `cancel_status`),
/// then reports `Canceled`.
fn azure_cancellable(cancel_status: u16) -> Server {
    let cancelled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    Server::start(move |seen| {
        use std::sync::atomic::Ordering;
        match (seen.method.as_str(), seen.path.as_str()) {
            ("POST", "/start") => reply(202, "")
                .header("operation-location", "/operations/1")
                .header("retry-after", "0"),
            ("POST", "/operations/1:cancel") if cancel_status < 300 => {
                cancelled.store(true, Ordering::SeqCst);
                reply(cancel_status, r#"{"id":"1","status":"Canceling"}"#)
            }
            (_, "/operations/1:cancel") | ("DELETE", "/operations/1") => reply(cancel_status, ""),
            ("GET", "/operations/1") if cancelled.load(Ordering::SeqCst) => {
                reply(200, r#"{"id":"1","status":"Canceled"}"#)
            }
            ("GET", "/operations/1") => reply(200, r#"{"id":"1","status":"Running"}"#),
            _ => reply(404, ""),
        }
    })
}

#[test]
fn cancel_asks_an_azure_operation_location_service_then_resume_sees_it_end() {
    let server = azure_cancellable(202);
    let token = start_no_wait(&server.url("/start"), "azure", &[]);
    let cancel = lro(&[
        "cancel",
        &token,
        "--json",
        "-H",
        "Authorization: Bearer t0ken",
    ]);
    assert_eq!(cancel.code, 0, "{}", cancel.everything());
    assert_eq!(
        cancel.last(),
        json!({"event": "cancel-requested", "protocol": "azure"})
    );
    let sent = server.seen_at("/operations/1:cancel");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");
    // Same origin as the start, and Azure wants credentials.
    assert_eq!(sent[0].header("authorization"), Some("Bearer t0ken"));
    // Cancel does not wait: no poll yet.
    assert!(server.seen_at("/operations/1").is_empty());

    // Polling goes on until the service reports the end.
    let resumed = lro_json(&["resume", &token]);
    assert_eq!(resumed.code, 1, "{}", resumed.everything());
    assert_eq!(resumed.last()["outcome"], "canceled");
}

#[test]
fn cancel_asks_a_google_operation_with_the_token_from_a_file() {
    let server = Server::start(|seen| match (seen.method.as_str(), seen.path.as_str()) {
        ("POST", "/v1/projects/p/instances") => reply(
            200,
            r#"{"name":"operations/x","done":false,"metadata":{"progressPercent":10}}"#,
        ),
        ("POST", "/v1/operations/x:cancel") => reply(200, "{}"),
        _ => reply(404, ""),
    });
    let started = lro_json(&[
        "start",
        &server.url("/v1/projects/p/instances"),
        "-d",
        "{}",
        "--no-wait",
    ]);
    // The start's own status is reported before the token.
    assert_eq!(percentages(&started), [10.0]);
    let token = started_token(&started, "google");
    let dir = std::env::temp_dir().join(format!("lro-cli-cancel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("op.token");
    std::fs::write(&file, format!("{token}\n")).unwrap();
    let cancel = lro(&["cancel", &format!("@{}", file.display())]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(cancel.code, 0, "{}", cancel.everything());
    assert_eq!(cancel.stdout.trim(), "cancel requested");
    assert!(!cancel.everything().contains(&token));
    let methods: Vec<_> = server
        .seen()
        .iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(
        methods,
        [
            "POST /v1/projects/p/instances",
            "POST /v1/operations/x:cancel"
        ]
    );
}

#[test]
fn cancel_refused_with_405_is_unsupported() {
    let server = azure_cancellable(405);
    let token = start_no_wait(&server.url("/start"), "azure", &[]);
    let cancel = lro(&["cancel", &token, "--json"]);
    assert_eq!(cancel.code, 2, "{}", cancel.everything());
    let last = cancel.last();
    assert_eq!(last["event"], "error");
    assert_eq!(last["kind"], "cancel-unsupported");
    assert_eq!(last["httpStatus"], 405);
    assert_eq!(last["token"], Value::Null);
    // Both ways were tried: POST :cancel, then DELETE.
    let methods: Vec<_> = server
        .seen()
        .iter()
        .skip(1)
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(
        methods,
        ["POST /operations/1:cancel", "DELETE /operations/1"]
    );
}

#[test]
fn cancel_on_graph_is_unsupported_and_sends_nothing() {
    let server = graph_copy("");
    let token = start_no_wait(&server.url("/copy"), "graph", &[]);
    for json in [true, false] {
        let mut args = vec!["cancel", token.as_str()];
        if json {
            args.push("--json");
        }
        let cancel = lro(&args);
        assert_eq!(cancel.code, 2, "{}", cancel.everything());
        assert!(
            cancel.stderr.contains("cancel is not supported by graph"),
            "{}",
            cancel.stderr
        );
        assert!(!cancel.everything().contains(&token));
        if json {
            let last = cancel.last();
            assert_eq!(last["kind"], "cancel-unsupported");
            assert_eq!(last["httpStatus"], Value::Null);
        } else {
            assert!(cancel.stdout.is_empty(), "{}", cancel.stdout);
        }
    }
    assert_eq!(server.seen().len(), 1, "{:?}", server.seen());
}

#[test]
fn a_cancel_that_races_completion_fails_and_resume_reports_success() {
    let server = Server::start(|seen| match (seen.method.as_str(), seen.path.as_str()) {
        ("POST", "/start") => reply(202, "").header("operation-location", "/operations/1"),
        ("POST", "/operations/1:cancel") => reply(
            409,
            r#"{"error":{"code":"Conflict","message":"the operation has already completed"}}"#,
        ),
        ("GET", "/operations/1") => reply(
            200,
            r#"{"id":"1","status":"Succeeded","result":{"id":"r"}}"#,
        ),
        _ => reply(404, ""),
    });
    let token = start_no_wait(
        &server.url("/start"),
        "azure",
        &["--final-state-via", "operation-location"],
    );
    let cancel = lro(&["cancel", &token, "--json"]);
    assert_eq!(cancel.code, 2, "{}", cancel.everything());
    let last = cancel.last();
    assert_eq!(last["kind"], "http");
    assert_eq!(last["httpStatus"], 409);
    assert_eq!(last["error"]["code"], "Conflict");
    let resumed = lro_json(&["resume", &token]);
    assert_eq!(resumed.code, 0, "{}", resumed.everything());
    let last = resumed.last();
    assert_eq!(last["outcome"], "succeeded");
    assert_eq!(last["result"], json!({"id": "r"}));
}

#[test]
fn bad_tokens_exit_64_and_are_not_echoed() {
    let dir = std::env::temp_dir().join(format!("lro-cli-bad-token-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.token");
    std::fs::write(&file, "lro1.SECRETinafile").unwrap();
    let from_file = format!("@{}", file.display());
    let newer = "lro9.SECRETfromthefuture";
    let mut cases: Vec<Vec<&str>> = Vec::new();
    for command in ["resume", "cancel"] {
        for token in [
            "SECRET-garbage",
            newer,
            "",
            "lro1.SECRET!!",
            "lro1.U0VDUkVU",
            from_file.as_str(),
        ] {
            cases.push(vec![command, token]);
        }
        // A token where clap does not expect one.
        cases.push(vec![command, "lro1.AAAA", "lro1.SECRETextra"]);
    }
    for args in &cases {
        let run = lro(args);
        assert_eq!(run.code, 64, "{args:?}: {}", run.everything());
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert!(!run.stderr.trim().is_empty(), "{args:?}");
        assert_no_secret(&run);
    }
    let run = lro(&["resume", newer]);
    assert!(run.stderr.contains("newer version"), "{}", run.stderr);
    // From stdin, and with --json.
    let run = lro_with_stdin(&["resume", "-", "--json"], "lro1.SECRET\n");
    assert_eq!(run.code, 64, "{}", run.everything());
    assert_eq!(run.last()["kind"], "usage");
    assert_no_secret(&run);
    let run = lro_with_stdin(&["cancel", "-"], "");
    assert_eq!(run.code, 64, "{}", run.everything());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn ctrl_c_stops_waiting_and_gives_a_token_that_resume_finishes_with() {
    for command in ["start", "watch"] {
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let finished = Arc::clone(&done);
        let server = Server::start(move |seen| match seen.path.as_str() {
            "/copy" => reply(202, "").header("location", "/monitor/1"),
            _ if finished.load(std::sync::atomic::Ordering::SeqCst) => {
                reply(200, r#"{"status":"completed","resourceId":"item-7"}"#)
            }
            _ => reply(202, r#"{"status":"inProgress"}"#),
        });
        let url = match command {
            "start" => server.url("/copy"),
            _ => server.url("/monitor/1"),
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_lro"))
            .args([
                command,
                &url,
                "--interval",
                "0.05",
                "--min-interval",
                "0",
                "--json",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run lro");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        assert!(first.contains(r#""event":"status""#), "{first}");
        let sent = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(2), "{command}: {rest}\n{stderr}");
        let last: Value = serde_json::from_str(rest.lines().last().unwrap_or_default()).unwrap();
        assert_eq!(last["event"], "error");
        assert_eq!(last["kind"], "interrupted");
        let token = last["token"].as_str().expect("a token").to_owned();
        assert!(
            stderr.contains(&format!("resume with: lro resume {token}")),
            "{stderr}"
        );

        done.store(true, std::sync::atomic::Ordering::SeqCst);
        let resumed = lro_json(&["resume", &token]);
        assert_eq!(resumed.code, 0, "{command}: {}", resumed.everything());
        assert_eq!(resumed.last()["resourceId"], "item-7");
        let starts = server.seen_at("/copy").len();
        assert_eq!(starts, usize::from(command == "start"));
    }
}

#[test]
fn an_interval_under_the_floor_is_refused_before_any_request() {
    let server = Server::start(|_| reply(202, r#"{"status":"inProgress"}"#));
    for command in ["start", "watch"] {
        let run = lro(&[command, &server.url("/m"), "--interval", "0.2"]);
        assert_eq!(run.code, 64, "{}", run.everything());
        assert!(run.stderr.contains("--min-interval"), "{}", run.stderr);
    }
    assert!(server.seen().is_empty(), "nothing is sent");
}

#[test]
fn an_interval_at_the_floor_is_accepted() {
    let server = Server::start(|seen| match seen.hit {
        0 => reply(202, r#"{"status":"inProgress"}"#).header("retry-after", "0"),
        _ => reply(200, r#"{"status":"completed"}"#),
    });
    let url = server.url("/m");
    let args = ["watch", &url, "--interval", "0.3", "--min-interval", "0.3"];
    let run = lro(&args);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(server.seen_at("/m").len(), 2);
}

// ------------------------------------------------------- start retries

/// The lines other than `status` and `retry`: exactly one, the last.
fn final_line(run: &Run) -> Value {
    let lines = run.lines();
    let finals: Vec<_> = lines
        .iter()
        .filter(|l| l["event"] != "status" && l["event"] != "retry")
        .collect();
    assert_eq!(finals.len(), 1, "one final line: {}", run.stdout);
    assert_eq!(Some(finals[0]), lines.last(), "the final line comes last");
    finals[0].clone()
}

fn retries(run: &Run) -> Vec<Value> {
    run.lines()
        .into_iter()
        .filter(|l| l["event"] == "retry")
        .collect()
}

#[test]
fn an_idempotent_start_is_retried_and_each_retry_reported() {
    let server = Server::start(
        |seen| match (seen.method.as_str(), seen.path.as_str(), seen.hit) {
            ("PUT", "/vaults/v2", 0) => reply(
                500,
                r#"{"error":{"code":"InternalError","message":"try again"}}"#,
            ),
            ("PUT", "/vaults/v2", 1) => reply(503, "").header("retry-after", "0"),
            ("PUT", "/vaults/v2", _) => reply(
                201,
                r#"{"id":"/vaults/v2","properties":{"provisioningState":"Creating"}}"#,
            ),
            ("GET", "/vaults/v2", _) => reply(
                200,
                r#"{"id":"/vaults/v2","properties":{"provisioningState":"Succeeded"}}"#,
            ),
            _ => reply(405, ""),
        },
    );
    let body = r#"{"location":"westeurope","properties":{"sku":"standard"}}"#;
    let run = lro_json(&[
        "start",
        "-X",
        "PUT",
        "--protocol",
        "azure",
        &server.url("/vaults/v2"),
        "-d",
        body,
    ]);
    assert_eq!(run.code, 0, "{}", run.everything());
    let retries = retries(&run);
    assert_eq!(retries.len(), 2, "{}", run.stdout);
    assert_eq!(retries[0]["request"], "start");
    assert_eq!(retries[0]["attempt"], 2);
    assert_eq!(retries[0]["kind"], "http");
    assert_eq!(retries[0]["httpStatus"], 500);
    assert_eq!(retries[0]["error"]["code"], "InternalError");
    assert_eq!(retries[1]["attempt"], 3);
    assert_eq!(retries[1]["httpStatus"], 503);
    assert!(retries[0]["delayMs"].as_u64().is_some());
    let last = final_line(&run);
    assert_eq!(last["outcome"], "succeeded");
    assert_eq!(last["resultFormat"], "json");
    let puts: Vec<_> = server
        .seen_at("/vaults/v2")
        .into_iter()
        .filter(|s| s.method == "PUT")
        .collect();
    assert_eq!(puts.len(), 3);
    for put in &puts {
        assert_eq!(put.body, body.as_bytes(), "the body is sent again as is");
        assert_eq!(put.header("content-type"), Some("application/json"));
    }
}

#[test]
fn a_post_start_is_retried_only_when_asked() {
    let script = |seen: &Seen| match (seen.method.as_str(), seen.path.as_str(), seen.hit) {
        ("POST", "/jobs", 0) => reply(503, "").header("retry-after", "0"),
        ("POST", "/jobs", _) => reply(202, "").header("location", "/monitor/j"),
        (_, "/monitor/j", _) => reply(200, r#"{"status":"completed","resourceId":"j1"}"#),
        _ => reply(405, ""),
    };
    let plain = Server::start(script);
    let run = lro_json(&["start", &plain.url("/jobs"), "-d", "{}"]);
    assert_eq!(run.code, 2, "{}", run.everything());
    assert!(retries(&run).is_empty());
    assert_eq!(final_line(&run)["httpStatus"], 503);
    assert_eq!(plain.seen_at("/jobs").len(), 1, "a POST is not repeated");

    let opted = Server::start(script);
    let run = lro_json(&["start", &opted.url("/jobs"), "-d", "{}", "--retry-start"]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(retries(&run).len(), 1);
    assert_eq!(final_line(&run)["resourceId"], "j1");
    assert_eq!(opted.seen_at("/jobs").len(), 2);

    // An idempotency key makes a POST safe to repeat.
    let keyed = Server::start(script);
    let run = lro_json(&[
        "start",
        &keyed.url("/jobs"),
        "-d",
        "{}",
        "-H",
        "Idempotency-Key: 5b1c0ad3",
    ]);
    assert_eq!(run.code, 0, "{}", run.everything());
    let posts = keyed.seen_at("/jobs");
    assert_eq!(posts.len(), 2);
    assert!(
        posts
            .iter()
            .all(|p| p.header("idempotency-key") == Some("5b1c0ad3"))
    );
}

#[test]
fn a_start_retry_is_told_on_stderr_in_human_mode() {
    let server = Server::start(|seen| match (seen.method.as_str(), seen.hit) {
        ("DELETE", 0) => reply(502, ""),
        ("DELETE", _) => reply(204, ""),
        _ => reply(405, ""),
    });
    let run = lro(&[
        "start",
        "-X",
        "DELETE",
        &server.url("/things/3"),
        "--interval",
        "0.05",
        "--min-interval",
        "0",
    ]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert!(
        run.stderr.contains("sending the start request again in")
            && run.stderr.contains("(attempt 2)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("502"), "{}", run.stderr);
    assert_eq!(server.seen_at("/things/3").len(), 2);
}

#[test]
fn a_result_that_is_not_json_is_said_to_be_text() {
    let server = Server::start(|seen| match (seen.method.as_str(), seen.path.as_str()) {
        ("PUT", "/r/1") => reply(201, "").header("azure-asyncoperation", "/ops/r1"),
        ("GET", "/ops/r1") => reply(200, r#"{"status":"Succeeded"}"#),
        ("GET", "/r/1") => reply(
            200,
            r#"{ "properties": { "provisioningState": "Succeeded"}"#,
        ),
        _ => reply(405, ""),
    });
    let run = lro_json(&["start", "-X", "PUT", &server.url("/r/1")]);
    assert_eq!(run.code, 0, "{}", run.everything());
    let last = final_line(&run);
    assert_eq!(last["outcome"], "succeeded");
    assert_eq!(last["resultFormat"], "text");
    assert_eq!(
        last["result"],
        r#"{ "properties": { "provisioningState": "Succeeded"}"#
    );
}
