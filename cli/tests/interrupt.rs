//! Ctrl-C while waiting: exit 2 with a token that `resume` finishes with.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use serde_json::Value;

use support::run::lro_json;
use support::server::{Server, reply};

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
