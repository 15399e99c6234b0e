//! Tokens minted by the 0.1.0 release (`tests/fixtures/tokens/`) still
//! resume: each is read, names its protocol, and a new operation built from
//! it polls its monitor with that protocol's reading of the answers.

use futures::executor::block_on;
use lro_poller::policy::PollPolicy;
use lro_poller::testing::{ScriptedTransport, VirtualTimer};
use lro_poller::{JobState, Operation, RequestKind, ResumeToken};

const FIXTURES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/tokens/lro1-release.txt"
));

fn fixture(name: &str) -> ResumeToken {
    let line = FIXTURES
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no fixture {name}"));
    line.parse().unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Resumes `token` against a script of answers; returns the protocol's name,
/// the URLs polled and the outcome's poll count.
fn resume(token: ResumeToken, answers: &[(u16, &str)]) -> (String, Vec<String>, u32) {
    let transport = ScriptedTransport::new();
    for (code, body) in answers {
        transport.push_response(
            *code,
            &[("content-type", "application/json")],
            body.to_string(),
        );
    }
    // The fixtures started long ago: no deadline, or it would have passed.
    let operation = Operation::resume(transport.clone(), token)
        .with_policy(PollPolicy::default().without_deadline())
        .with_timer(VirtualTimer::new())
        .build()
        .unwrap();
    let protocol = operation.protocol().to_owned();
    let outcome = block_on(operation.outcome()).unwrap();
    assert_eq!(outcome.status().status, JobState::Completed);
    let requests = transport.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.meta.unwrap().kind != RequestKind::Start),
        "resuming never starts again"
    );
    let urls = requests.into_iter().map(|r| r.uri.to_string()).collect();
    (protocol, urls, outcome.polls())
}

#[test]
fn every_fixture_parses_and_keeps_its_fields() {
    let names: Vec<_> = FIXTURES.lines().filter_map(|l| l.split_once(' ')).collect();
    assert_eq!(names.len(), 5);
    for (name, text) in names {
        assert!(text.starts_with("lro1."), "{name}");
        let token: ResumeToken = text.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(token.started_at_ms, 1_796_000_000_000, "{name}");
        assert!(token.request().unwrap().is_none());
        // Written again, it reads back the same.
        assert_eq!(token.to_string().parse::<ResumeToken>().unwrap(), token);
    }
}

#[test]
fn a_graph_token_resumes_with_graph() {
    let token = fixture("graph");
    assert_eq!(token.polls, 3);
    let (protocol, urls, polls) = resume(
        token,
        &[
            (202, r#"{"status":"inProgress","percentageComplete":80}"#),
            (303, r#"{"status":"completed","resourceId":"01X"}"#),
        ],
    );
    assert_eq!(protocol, "graph");
    assert_eq!(
        urls,
        ["https://api.example/monitor/4A34?tempauth=fixture"; 2]
    );
    assert_eq!(polls, 5);
}

#[test]
fn an_auto_token_resumes_with_auto() {
    let (protocol, urls, _) = resume(fixture("auto"), &[(200, r#"{"status":"completed"}"#)]);
    assert_eq!(protocol, "auto");
    assert_eq!(urls, ["https://api.example/monitor/9"]);
}

#[test]
fn a_google_token_resumes_with_google() {
    let (protocol, urls, polls) = resume(
        fixture("google"),
        &[(
            200,
            r#"{"name":"projects/p/operations/op-7","done":true,"response":{"name":"projects/p/instances/i"}}"#,
        )],
    );
    assert_eq!(protocol, "google");
    assert_eq!(
        urls,
        ["https://svc.example/prefix/v1/projects/p/operations/op-7"]
    );
    assert_eq!(polls, 3);
}

#[test]
fn azure_tokens_resume_with_their_mode_and_final_state() {
    // Operation-Location, final state via operation-location: the monitor's
    // final answer names the resource, which is fetched.
    let (protocol, urls, _) = resume(
        fixture("azure-operation-location"),
        &[
            (
                200,
                r#"{"status":"Succeeded","resourceLocation":"https://azure.example/things/1"}"#,
            ),
            (200, r#"{"id":"1"}"#),
        ],
    );
    assert_eq!(protocol, "azure");
    assert_eq!(
        urls,
        [
            "https://azure.example/operations/op-1?api-version=2024-01-01",
            "https://azure.example/things/1"
        ]
    );

    // Body polling on the resource itself.
    let (protocol, urls, _) = resume(
        fixture("azure-body"),
        &[(
            200,
            r#"{"id":"2","properties":{"provisioningState":"Succeeded"}}"#,
        )],
    );
    assert_eq!(protocol, "azure");
    assert_eq!(urls, ["https://azure.example/things/2"]);
}
