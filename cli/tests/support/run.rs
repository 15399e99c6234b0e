//! The `lro` binary, run as a user runs it, and what it printed.

use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// How a run of `lro` ended: its exit status and what it printed.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Every stdout line, each parsed as JSON.
    pub fn lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}\n{}", self.stderr))
            })
            .collect()
    }

    /// The `status` lines, without their due times (which differ from run
    /// to run: see [`Run::due_times`]).
    pub fn statuses(&self) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|l| l["event"] == "status")
            .map(|mut l| {
                if let Some(line) = l.as_object_mut() {
                    line.remove("nextPollAt");
                }
                l
            })
            .collect()
    }

    /// Each `status` line's `nextPollAt`, if it has one.
    pub fn due_times(&self) -> Vec<Option<String>> {
        self.lines()
            .into_iter()
            .filter(|l| l["event"] == "status")
            .map(|l| l["nextPollAt"].as_str().map(str::to_owned))
            .collect()
    }

    /// The `retry` lines.
    #[allow(dead_code)]
    pub fn retries(&self) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|l| l["event"] == "retry")
            .collect()
    }

    /// The last line, after checking it is the only final one (`status`
    /// and `retry` lines come before it).
    pub fn last(&self) -> Value {
        let lines = self.lines();
        let finals: Vec<_> = lines
            .iter()
            .filter(|l| l["event"] != "status" && l["event"] != "retry")
            .collect();
        assert_eq!(finals.len(), 1, "one final line: {}", self.stdout);
        let last = lines.last().cloned().unwrap();
        assert_eq!(&last, finals[0], "the final line comes last");
        last
    }

    /// stdout and stderr together, for messages and for searching.
    pub fn everything(&self) -> String {
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

/// `lro ARGS`, with nothing on its stdin.
pub fn lro(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_lro"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run lro");
    finish(output)
}

/// `lro ARGS` with `input` on its stdin.
pub fn lro_with_stdin(args: &[&str], input: &str) -> Run {
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

/// Options that keep a run short: a 50 ms interval, no floor, a 30 s timeout.
pub const FAST: &[&str] = &[
    "--interval",
    "0.05",
    "--min-interval",
    "0",
    "--timeout",
    "30",
];

/// `lro ARGS` with [`FAST`] and `--json`.
pub fn lro_json(args: &[&str]) -> Run {
    let mut all: Vec<&str> = args.to_vec();
    all.extend_from_slice(FAST);
    all.push("--json");
    lro(&all)
}

/// The `percentageComplete` of each status line that has one.
pub fn percentages(run: &Run) -> Vec<f64> {
    run.statuses()
        .iter()
        .filter_map(|s| s["percentageComplete"].as_f64())
        .collect()
}

/// The lines other than `status` and `retry`: exactly one, the last.
pub fn final_line(run: &Run) -> Value {
    let lines = run.lines();
    let finals: Vec<_> = lines
        .iter()
        .filter(|l| l["event"] != "status" && l["event"] != "retry")
        .collect();
    assert_eq!(finals.len(), 1, "one final line: {}", run.stdout);
    assert_eq!(Some(finals[0]), lines.last(), "the final line comes last");
    finals[0].clone()
}

/// The `retry` lines.
pub fn retries(run: &Run) -> Vec<Value> {
    run.lines()
        .into_iter()
        .filter(|l| l["event"] == "retry")
        .collect()
}

/// Fails if the run printed the monitor URL's `SECRET` token.
pub fn assert_no_secret(run: &Run) {
    assert!(
        !run.everything().contains("SECRET"),
        "the monitor's token was printed:\n{}",
        run.everything()
    );
}
