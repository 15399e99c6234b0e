//! Fuzz targets, driven by a seeded generator (cargo-fuzz needs a nightly
//! toolchain, which this project's machines do not have).
//!
//! Each target feeds arbitrary input — random bytes, mutations of real
//! answers (byte flips, truncations, splices), random JSON — to one parser
//! and fails on any panic. CI runs a short pass; the long run is
//!
//! ```sh
//! FUZZ_ITERS=10000000 cargo test --release --all-features --test fuzz -- --nocapture
//! ```
//!
//! `FUZZ_SEED` picks another seed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use bytes::Bytes;
use futures::executor::block_on;
use lro_poller::policy::{ConstantBuilder, PollPolicy};
use lro_poller::protocol::ProtocolKind;
use lro_poller::protocol::{
    Auto, Azure, AzureMode, FinalStateVia, Google, Graph, Polled, Protocol,
};
use lro_poller::testing::{ScriptedTransport, VirtualTimer};
use lro_poller::{AsyncJobStatus, JobState, Operation, UrlPolicy};
use url::Url;

const CORPUS: &[&str] = &[
    r#"{"operation":"ItemCopy","percentageComplete":27.8,"status":"inProgress"}"#,
    r#"{"percentageComplete":100.0,"resourceId":"01MOW","status":"completed"}"#,
    r#"{"status":"failed","error":{"code":"generalException","message":"boom"},"errorCode":"x"}"#,
    r#"{"status":"Succeeded","percentComplete":40,"resourceLocation":"/x/1","result":{"a":[1,2]}}"#,
    r#"{"id":"1","status":"Running","error":null}"#,
    r#"{"name":"operations/1","metadata":{"progressPercent":45},"done":false}"#,
    r#"{"name":"operations/1","done":true,"response":{"name":"i/1"}}"#,
    r#"{"name":"operations/1","done":true,"error":{"code":1,"message":"cancelled"}}"#,
    r#"{"properties":{"provisioningState":"Creating"},"id":"/vm"}"#,
    r#"{"percentageComplete":"12.5%","status":"waiting","statusDescription":"Completed 0/0 files"}"#,
    "<html><body>502 Bad Gateway</body></html>",
    "",
    // Truncated answers seen from real servers (the Azure LRO test server's
    // invalid-JSON scenarios): never a success.
    r#"{ "properties": { "provisioningState": "Creating"}, "id": "100", "name": "foo""#,
    r#"{ "status": "Accepted""#,
    r#"{"name":"operations/1","done":true,"response":{"name":"i/1""#,
    r#"{"status":"completed","resourceId":"01MOW""#,
    // Error objects of every shape.
    r#"{"status":"Failed","error":{"code":500,"message":"Internal Server Error"}}"#,
    r#"{"status":"failed","errorCode":42,"error":{"innerError":{"code":"x"},"details":[{"message":"m"}]}}"#,
    r#"{"name":"operations/2","done":true,"error":{"code":"CANCELLED"}}"#,
    r#"{"properties":{"provisioningState":"Failed","error":{"code":409}},"id":"/vm"}"#,
    // Work counters, which are not percentages.
    r#"{"name":"o","metadata":{"progressBytes":{"completedWork":"2684354","estimatedWork":"10737418"},"progressDocuments":{"completedWork":"5"}}}"#,
];

const HEADER_VALUES: &[&str] = &[
    "120",
    "0",
    "-1",
    "9999999999",
    "1.5",
    "Sun, 06 Nov 1994 08:49:37 GMT",
    "Sunday, 06-Nov-94 08:49:37 GMT",
    "Sun Nov  6 08:49:37 1994",
    "/monitor/1",
    "https://other.example/m?tempauth=x",
    "../../..//x",
    "javascript:alert(1)",
    "//evil.example/x",
    "http://[::1]:80/x",
];

struct Gen {
    rng: fastrand::Rng,
}

impl Gen {
    fn bytes(&mut self) -> Vec<u8> {
        match self.rng.u8(0..6) {
            0 => (0..self.rng.usize(0..64))
                .map(|_| self.rng.u8(..))
                .collect(),
            1 => self.json().into_bytes(),
            _ => {
                let seed = CORPUS[self.rng.usize(0..CORPUS.len())];
                self.mutated(seed.as_bytes())
            }
        }
    }

    fn mutated(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut data = seed.to_vec();
        for _ in 0..self.rng.usize(0..4) {
            match self.rng.u8(0..5) {
                0 if !data.is_empty() => {
                    let i = self.rng.usize(0..data.len());
                    data[i] = self.rng.u8(..);
                }
                1 if !data.is_empty() => data.truncate(self.rng.usize(0..data.len())),
                2 => {
                    let i = self.rng.usize(0..=data.len());
                    let other = CORPUS[self.rng.usize(0..CORPUS.len())].as_bytes();
                    let cut = self.rng.usize(0..=other.len());
                    data.splice(i..i, other[..cut].iter().copied());
                }
                3 => {
                    let i = self.rng.usize(0..=data.len());
                    let token: &[u8] = match self.rng.u8(0..6) {
                        0 => b"null",
                        1 => b"1e999",
                        2 => b"-0",
                        3 => b"\"\\ud800\"",
                        4 => b"{}",
                        _ => b"[",
                    };
                    data.splice(i..i, token.iter().copied());
                }
                _ => {}
            }
        }
        data
    }

    fn json(&mut self) -> String {
        let keys = [
            "status",
            "percentageComplete",
            "percentComplete",
            "done",
            "name",
            "error",
            "response",
            "metadata",
            "code",
            "message",
            "result",
            "resourceLocation",
            "resourceId",
            "properties",
            "provisioningState",
            "progress",
        ];
        let depth = self.rng.u8(0..3);
        self.value(&keys, depth)
    }

    fn value(&mut self, keys: &[&str], depth: u8) -> String {
        match self.rng.u8(0..8) {
            0 => "null".into(),
            1 => self.rng.bool().to_string(),
            2 => format!("{}", self.rng.i64(..)),
            3 => format!("{}", self.rng.f64() * 1e3 - 500.0),
            4 => {
                let states = [
                    "completed",
                    "Succeeded",
                    "failed",
                    "inProgress",
                    "paused",
                    "CANCELED",
                    "",
                ];
                format!("{:?}", states[self.rng.usize(0..states.len())])
            }
            5 if depth > 0 => {
                let items: Vec<_> = (0..self.rng.usize(0..3))
                    .map(|_| self.value(keys, depth - 1))
                    .collect();
                format!("[{}]", items.join(","))
            }
            _ if depth > 0 => {
                let members: Vec<_> = (0..self.rng.usize(0..5))
                    .map(|_| {
                        let key = keys[self.rng.usize(0..keys.len())];
                        format!("{key:?}:{}", self.value(keys, depth - 1))
                    })
                    .collect();
                format!("{{{}}}", members.join(","))
            }
            _ => format!("{:?}", "x".repeat(self.rng.usize(0..5))),
        }
    }

    fn header_value(&mut self) -> Vec<u8> {
        match self.rng.u8(0..3) {
            0 => (0..self.rng.usize(0..40))
                .map(|_| self.rng.u8(0x20..0x7f))
                .collect(),
            _ => {
                let seed = HEADER_VALUES[self.rng.usize(0..HEADER_VALUES.len())];
                self.mutated(seed.as_bytes())
            }
        }
    }

    fn response(&mut self) -> http::Response<Bytes> {
        let mut response = http::Response::new(Bytes::from(self.bytes()));
        let codes = [
            200, 201, 202, 204, 303, 302, 400, 404, 405, 410, 429, 500, 503, 299, 999,
        ];
        *response.status_mut() = http::StatusCode::from_u16(codes[self.rng.usize(0..codes.len())])
            .unwrap_or(http::StatusCode::OK);
        let names = [
            "location",
            "operation-location",
            "azure-asyncoperation",
            "retry-after",
            "retry-after-ms",
            "date",
        ];
        for _ in 0..self.rng.usize(0..4) {
            let name = names[self.rng.usize(0..names.len())];
            if let Ok(value) = http::HeaderValue::from_bytes(&self.header_value()) {
                response.headers_mut().append(name, value);
            }
        }
        response
    }
}

fn iterations() -> u64 {
    std::env::var("FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

fn seed() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed)
}

/// Runs `target` on generated input `iterations()` times; any panic fails.
fn fuzz(name: &str, mut target: impl FnMut(&mut Gen)) {
    let n = iterations();
    let mut input = Gen {
        rng: fastrand::Rng::with_seed(seed()),
    };
    let start = std::time::Instant::now();
    for i in 0..n {
        if catch_unwind(AssertUnwindSafe(|| target(&mut input))).is_err() {
            panic!("{name}: panic at iteration {i} (seed {})", seed());
        }
    }
    println!("{name}: {n} executions, no panic, {:.1?}", start.elapsed());
}

#[test]
fn fuzz_status_json_parser() {
    fuzz("status-json", |input| {
        let bytes = input.bytes();
        if let Ok(status) = AsyncJobStatus::from_json(&bytes) {
            // A parsed report is coherent: its state has a spelling, and a
            // progress value is finite.
            assert!(status.percentage_complete.is_none_or(f64::is_finite));
            let _ = status.status.is_terminal();
            let text = serde_json::to_string(&status).unwrap();
            assert_eq!(
                AsyncJobStatus::from_json(text.as_bytes()).unwrap().status,
                status.status
            );
        }
    });
}

#[test]
fn fuzz_protocol_interpretation() {
    let url = Url::parse("https://api.example/v1/monitor/1?tempauth=x").unwrap();
    let original = Url::parse("https://api.example/v1/things/1").unwrap();
    let mut protocols: Vec<Box<dyn Protocol>> = vec![
        Box::new(Graph::new()),
        Box::new(Google::new()),
        Box::new(Auto::default()),
    ];
    for mode in [
        AzureMode::AsyncOperation,
        AzureMode::OperationLocation,
        AzureMode::Location,
        AzureMode::Body,
    ] {
        for via in [
            FinalStateVia::Location,
            FinalStateVia::AzureAsyncOperation,
            FinalStateVia::OriginalUri,
            FinalStateVia::OperationLocation,
        ] {
            protocols.push(Box::new(Azure::new(
                mode,
                via,
                original.clone(),
                Some(original.clone()),
            )));
        }
    }
    fuzz("protocols", |input| {
        let response = input.response();
        let protocol = &protocols[input.rng.usize(0..protocols.len())];
        match protocol.read_poll(&url, &response) {
            Ok(Polled::Status(reading)) => {
                // Never a success out of an error answer.
                if reading.status.status == JobState::Completed {
                    assert!(
                        !response.status().is_client_error()
                            && !response.status().is_server_error()
                    );
                    // Nor out of a body that claims to be JSON and is not.
                    let body = response.body();
                    let claims_json = body
                        .iter()
                        .find(|b| !b.is_ascii_whitespace())
                        .is_some_and(|b| *b == b'{' || *b == b'[');
                    assert!(
                        !claims_json
                            || serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok(),
                        "{} read {:?} ({}) as completed",
                        protocol.name(),
                        String::from_utf8_lossy(body),
                        response.status()
                    );
                }
                for next in reading
                    .next_monitor
                    .iter()
                    .chain(reading.result_location.iter())
                {
                    assert!(matches!(next.scheme(), "http" | "https"));
                }
            }
            Ok(Polled::ReadFailure) => {
                assert!(response.status().is_client_error() || response.status().is_server_error())
            }
            Ok(_) => {}
            Err(error) => {
                let text = error.to_string();
                assert!(!text.contains("tempauth"), "{text}");
            }
        }
    });
}

#[test]
fn fuzz_location_resolution() {
    let base = Url::parse("https://api.example/v1.0/drive/items/1/copy").unwrap();
    let policy = UrlPolicy::new().allow_host(".example");
    fuzz("location", |input| {
        let mut response = http::Response::new(Bytes::from_static(br#"{"status":"inProgress"}"#));
        *response.status_mut() = http::StatusCode::ACCEPTED;
        if let Ok(value) = http::HeaderValue::from_bytes(&input.header_value()) {
            response.headers_mut().insert("location", value);
        }
        if let Ok(Polled::Status(reading)) = Graph::new().read_poll(&base, &response) {
            if let Some(next) = reading.next_monitor {
                assert!(matches!(next.scheme(), "http" | "https"));
                let _ = policy.check(&base, &next);
            }
        }
        let name = String::from_utf8_lossy(&input.header_value()).into_owned();
        if let Ok(url) = Google::monitor_url(&base, &name) {
            assert_eq!(
                url.host_str(),
                base.host_str(),
                "an operation name never changes the host"
            );
        }
    });
}

/// A JSON answer of the corpus cut short: it claims to be JSON (it starts
/// with `{`) and does not parse.
fn truncated(input: &mut Gen) -> Vec<u8> {
    let whole: Vec<&str> = CORPUS
        .iter()
        .copied()
        .filter(|text| serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v.is_object()))
        .collect();
    loop {
        let text = whole[input.rng.usize(0..whole.len())].as_bytes();
        let cut = &text[..input.rng.usize(1..text.len())];
        if serde_json::from_slice::<serde::de::IgnoredAny>(cut).is_err() {
            return cut.to_vec();
        }
    }
}

/// The property: when every answer's body is JSON that cannot be read, no
/// family that reads its state from the body ends in success — at the
/// start, on a poll, or at the end — Graph's synchronous `200`/`201` start
/// answers included (a JSON body that cannot be read is no completion).
#[test]
fn no_unreadable_body_ever_yields_a_success() {
    let kinds = [
        ProtocolKind::Auto,
        ProtocolKind::Azure,
        ProtocolKind::Google,
        ProtocolKind::Graph,
    ];
    let methods = ["PUT", "PATCH", "POST", "DELETE", "GET"];
    let headers = [
        "location",
        "operation-location",
        "azure-asyncoperation",
        "x-ms-request-id",
    ];
    fuzz("unreadable-bodies", |input| {
        let transport = ScriptedTransport::new();
        for _ in 0..input.rng.usize(1..6) {
            let code = [200, 201, 202][input.rng.usize(0..3)];
            let mut answer_headers = vec![("content-type", "application/json")];
            for _ in 0..input.rng.usize(0..3) {
                let name = headers[input.rng.usize(0..headers.len())];
                answer_headers.push((name, "/m/1"));
            }
            transport.push_response(code, &answer_headers, truncated(input));
        }
        let kind = kinds[input.rng.usize(0..kinds.len())];
        let method = methods[input.rng.usize(0..methods.len())];
        let request = http::Request::builder()
            .method(method)
            .uri("https://api.example/v1/things/1")
            .body(Bytes::from_static(b"{}"))
            .unwrap();
        let operation = Operation::start(transport.clone(), request)
            .with_protocol_kind(kind)
            .with_timer(VirtualTimer::new())
            .with_policy(PollPolicy::new(ConstantBuilder::new(Duration::from_secs(
                1,
            ))))
            .build()
            .unwrap();
        let outcome = block_on(operation.outcome());
        assert!(
            outcome.is_err(),
            "{kind} {method}: {outcome:?} after {:?}",
            transport.requests().len()
        );
    });
    // Graph: a 202 with a monitor; every answer of the monitor unreadable.
    fuzz("unreadable-graph-polls", |input| {
        let request = http::Request::builder()
            .method("POST")
            .uri("https://api.example/drive/items/1/copy")
            .body(Bytes::new())
            .unwrap();
        let transport = ScriptedTransport::new();
        transport.push_response(202, &[("location", "/m/1")], Bytes::new());
        for _ in 0..input.rng.usize(1..4) {
            let code = [200, 202, 303][input.rng.usize(0..3)];
            transport.push_response(code, &[], truncated(input));
        }
        let operation = Operation::start(transport, request)
            .with_protocol_kind(ProtocolKind::Graph)
            .with_timer(VirtualTimer::new())
            .build()
            .unwrap();
        assert!(block_on(operation.outcome()).is_err());
    });
}
