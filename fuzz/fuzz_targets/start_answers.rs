//! Whatever a service answers a start request (then its monitor), through
//! the public API (`Operation::start` over a scripted transport, on
//! virtual time): never a panic.
//!
//! The input: a byte picking the method, one the family, then answers as
//! in `monitor_answers`.
#![no_main]

use bytes::Bytes;
use futures::executor::block_on;
use libfuzzer_sys::fuzz_target;
use lro_poller::Operation;
use lro_poller::protocol::ProtocolKind;
use lro_poller::testing::{ScriptedTransport, VirtualTimer};

const METHODS: [&str; 5] = ["PUT", "PATCH", "POST", "DELETE", "GET"];
const KINDS: [ProtocolKind; 4] = [
    ProtocolKind::Auto,
    ProtocolKind::Graph,
    ProtocolKind::Azure,
    ProtocolKind::Google,
];
const CODES: [u16; 10] = [200, 201, 202, 204, 303, 400, 404, 429, 500, 503];
const HEADERS: [(&str, &str); 6] = [
    ("content-type", "application/json"),
    ("location", "/next/1"),
    ("operation-location", "/ops/2"),
    ("azure-asyncoperation", "/ops/3"),
    ("x-ms-request-id", "1"),
    ("location", "ftp://elsewhere/x"),
];

fuzz_target!(|data: &[u8]| {
    let [method, kind, rest @ ..] = data else {
        return;
    };
    let method = METHODS[usize::from(*method) % METHODS.len()];
    let kind = KINDS[usize::from(*kind) % KINDS.len()];
    let transport = ScriptedTransport::new();
    for chunk in rest.split(|b| *b == 0xff).take(8) {
        let [code, header, body @ ..] = chunk else {
            continue;
        };
        let code = CODES[usize::from(*code) % CODES.len()];
        let header = HEADERS[usize::from(*header) % HEADERS.len()];
        transport.push_response(code, &[header], body.to_vec());
    }
    let request = http::Request::builder()
        .method(method)
        .uri("https://api.example/v1/things/1")
        .body(Bytes::from_static(b"{}"))
        .expect("a valid request");
    let operation = Operation::start(transport, request)
        .with_protocol_kind(kind)
        .with_timer(VirtualTimer::new())
        .build()
        .expect("a valid start");
    let _ = block_on(operation.outcome());
});
