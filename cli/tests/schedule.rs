//! The CLI keeps the schedule: `--json` status lines say when the next poll
//! is due, and `lro resume` polls when the token says, not at once.

mod support;

use std::time::{Duration, Instant, SystemTime};

use support::graph_copy::graph_copy;
use support::no_wait::started_token;
use support::run::lro_json;
use support::server::{Server, reply};

/// Seconds since the Unix epoch of an RFC 3339 UTC time (`…Z`).
fn parse_utc(text: &str) -> f64 {
    let (date, time) = text.strip_suffix('Z').unwrap().split_once('T').unwrap();
    let date: Vec<i64> = date.split('-').map(|p| p.parse().unwrap()).collect();
    let (y, m, d) = (date[0], date[1], date[2]);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs: Vec<f64> = time.split(':').map(|p| p.parse().unwrap()).collect();
    days as f64 * 86_400.0 + secs[0] * 3600.0 + secs[1] * 60.0 + secs[2]
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn json_status_lines_say_when_the_next_poll_is_due() {
    let server = graph_copy("");
    let before = now();
    let run = lro_json(&["start", &server.url("/copy")]);
    assert_eq!(run.code, 0, "{}", run.everything());
    let due = run.due_times();
    assert_eq!(due.len(), 4, "{}", run.stdout);
    // Every running status has a due time, the last one none.
    assert!(due[3].is_none(), "{}", run.stdout);
    let mut previous = before;
    for at in due[..3].iter().map(|at| at.as_deref().unwrap()) {
        assert!(at.ends_with('Z'), "UTC: {at}");
        let at = parse_utc(at);
        assert!(at > previous && at < now() + 1.0, "{at} after {previous}");
        previous = at;
    }
}

#[test]
fn resume_after_no_wait_polls_when_the_token_says() {
    // The service asks for 2 s before the first poll.
    let server = Server::start(|seen| match (seen.path.as_str(), seen.hit) {
        ("/copy", _) => reply(202, "")
            .header("location", "/monitor/1")
            .header("retry-after", "2"),
        ("/monitor/1", 0) => reply(202, r#"{"status":"inProgress","percentageComplete":50}"#),
        _ => reply(200, r#"{"status":"completed","resourceId":"R1"}"#),
    });
    let started_at = Instant::now();
    let before = now();
    let started = lro_json(&["start", &server.url("/copy"), "--no-wait"]);
    let token = started_token(&started, "graph");
    let due = parse_utc(started.last()["nextPollAt"].as_str().expect("a due time"));
    assert!(
        due >= before + 1.9 && due <= now() + 2.1,
        "due {due}, started {before}"
    );

    let resumed = lro_json(&["resume", &token]);
    assert_eq!(resumed.code, 0, "{}", resumed.everything());
    // Not at once: the first poll waited for the due time.
    assert!(
        started_at.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        started_at.elapsed()
    );
    assert_eq!(server.seen_at("/monitor/1").len(), 2);
    assert_eq!(resumed.last()["resourceId"], "R1");
}

#[test]
fn resume_after_an_interrupted_wait_polls_when_the_token_says() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};

    // Each running status asks for 3 s before the next poll.
    let server = Server::start(|seen| match seen.hit {
        0 => reply(202, r#"{"status":"inProgress"}"#).header("retry-after", "3"),
        _ => reply(200, r#"{"status":"completed","resourceId":"R2"}"#),
    });
    let mut child = Command::new(env!("CARGO_BIN_EXE_lro"))
        .args(["watch", &server.url("/monitor/1"), "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run lro");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    let due = parse_utc(first["nextPollAt"].as_str().expect("a due time"));
    let interrupted_at = Instant::now();
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(2), "{rest}");
    let last: serde_json::Value = serde_json::from_str(rest.lines().last().unwrap()).unwrap();
    let token = last["token"].as_str().expect("a token").to_owned();

    let resumed = lro_json(&["resume", &token]);
    assert_eq!(resumed.code, 0, "{}", resumed.everything());
    assert_eq!(resumed.last()["resourceId"], "R2");
    // The second poll came when the token said, not at once.
    let waited = interrupted_at.elapsed().as_secs_f64();
    assert!(now() >= due - 0.05, "resumed before {due}");
    assert!(waited >= 2.0, "{waited}");
    assert_eq!(server.seen_at("/monitor/1").len(), 2);
}
