//! `lro wait` against a real loopback HTTP server: the request re-sent byte
//! for byte, the waiter's acceptors deciding, the same JSON lines and exit
//! codes as the other subcommands.

mod support;

use serde_json::Value;

use support::run::lro;
use support::server::{Server, reply};

// The waiter definitions the library's own tests read.
const INSTANCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/waiters/instance_running.json"
);
const BUCKET: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/waiters/bucket_not_exists.json"
);

const BODY: &str = "{\"InstanceIds\": [\"i-0abc\"],  \"DryRun\":false}";

fn instances(state: &str) -> String {
    format!(
        r#"{{"Reservations":[{{"Instances":[{{"State":{{"Name":"{state}"}},"StateReason":{{"Message":"{state}: why"}}}}]}}]}}"#
    )
}

#[test]
fn waits_until_the_acceptors_say_success() {
    let server = Server::start(|seen| match seen.hit {
        0 | 1 => reply(200, &instances("pending")),
        _ => reply(200, &instances("running")),
    });
    let run = lro(&[
        "wait",
        &server.url("/"),
        "-d",
        BODY,
        "-H",
        "x-amz-target: Compute.DescribeInstances",
        "--waiter",
        INSTANCE,
        "--name",
        "InstanceRunning",
        "--interval",
        "0",
        "--min-interval",
        "0",
        "--timeout",
        "30",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let statuses = run.statuses();
    let states: Vec<_> = statuses
        .iter()
        .map(|s| s["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states, ["inProgress", "inProgress", "completed"]);
    assert_eq!(statuses[0]["operation"], "InstanceRunning");
    assert_eq!(
        statuses[0]["statusDescription"],
        "no acceptor matched (retry)"
    );
    assert_eq!(
        statuses[2]["statusDescription"],
        "acceptor #0 matched (success)"
    );
    let last = run.last();
    assert_eq!(
        (&last["event"], &last["outcome"]),
        (&Value::from("outcome"), &Value::from("succeeded"))
    );
    let seen = server.seen_at("/");
    assert_eq!(seen.len(), 3);
    for request in &seen {
        assert_eq!(request.method, "POST", "-d makes it a POST");
        assert_eq!(request.body, BODY.as_bytes());
        assert_eq!(
            request.headers.get("x-amz-target").unwrap(),
            "Compute.DescribeInstances"
        );
        assert_eq!(
            request.headers.get("content-type").unwrap(),
            "application/json"
        );
    }
}

#[test]
fn a_failure_acceptor_exits_1_with_its_message() {
    let server = Server::start(|seen| match seen.hit {
        0 => reply(200, &instances("pending")),
        _ => reply(200, &instances("terminated")),
    });
    let run = lro(&[
        "wait",
        &server.url("/"),
        "-X",
        "PUT",
        "-d",
        BODY,
        "--waiter",
        INSTANCE,
        "--name",
        "InstanceRunning",
        "--interval",
        "0",
        "--min-interval",
        "0",
        "--timeout",
        "30",
        "--json",
    ]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let last = run.last();
    assert_eq!(last["outcome"], "failed");
    assert_eq!(last["status"], "failed");
    assert_eq!(last["error"]["message"], "terminated: why");
    let seen = server.seen_at("/");
    assert_eq!(seen.len(), 2);
    assert!(
        seen.iter()
            .all(|r| r.method == "PUT" && r.body == BODY.as_bytes())
    );
}

#[test]
fn a_not_found_can_be_the_success_and_get_is_the_default() {
    let server = Server::start(|seen| match seen.hit {
        0 => reply(200, ""),
        _ => reply(404, ""),
    });
    let run = lro(&[
        "wait",
        &server.url("/photos"),
        "--waiter",
        BUCKET,
        "--name",
        "BucketNotExists",
        "--interval",
        "0",
        "--min-interval",
        "0",
        "--timeout",
        "30",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.last()["outcome"], "succeeded");
    let seen = server.seen_at("/photos");
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|r| r.method == "GET" && r.body.is_empty()));
}

#[test]
fn usage_errors_exit_64_before_any_request() {
    let server = Server::start(|_| reply(200, ""));
    let url = server.url("/");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "wait",
                &url,
                "--waiter",
                BUCKET,
                "--name",
                "BucketNotExists",
            ],
            "--timeout",
        ),
        (
            vec![
                "wait",
                &url,
                "--waiter",
                BUCKET,
                "--name",
                "BucketGone",
                "--timeout",
                "5",
            ],
            "BucketNotExists",
        ),
        (
            vec![
                "wait",
                &url,
                "--waiter",
                "/nonexistent/waiters.json",
                "--name",
                "X",
                "--timeout",
                "5",
            ],
            "cannot read",
        ),
        (
            vec!["wait", &url, "--waiter", INSTANCE, "--timeout", "5"],
            "--name",
        ),
    ];
    for (list, needle) in cases {
        let run = lro(&list);
        assert_eq!(run.code, 64, "{list:?}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(needle), "{list:?}: {}", run.stderr);
    }
    assert!(server.seen().is_empty());
}
