//! Whatever a monitor answers, through the public API (`Operation::monitor`
//! over a scripted transport, on virtual time): never a panic, and never a
//! success out of answers that are all JSON that cannot be read.
//!
//! The input: a byte picking the protocol family, then answers, each a
//! status byte, a header byte and a body up to the next `0xff`.
#![no_main]

use futures::executor::block_on;
use libfuzzer_sys::fuzz_target;
use lro_poller::Operation;
use lro_poller::protocol::ProtocolKind;
use lro_poller::testing::{ScriptedTransport, VirtualTimer};

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
    ("retry-after", "1"),
    ("location", "ftp://elsewhere/x"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let kind = KINDS[usize::from(kind) % KINDS.len()];
    let transport = ScriptedTransport::new();
    let mut all_unreadable = true;
    let mut answers = 0;
    for chunk in rest.split(|b| *b == 0xff).take(8) {
        let [code, header, body @ ..] = chunk else {
            continue;
        };
        let code = CODES[usize::from(*code) % CODES.len()];
        let header = HEADERS[usize::from(*header) % HEADERS.len()];
        // Unreadable even read leniently (bytes that are not UTF-8 inside a
        // string are replaced, as the crate's status reader does).
        let unreadable = body.first() == Some(&b'{')
            && serde_json::from_str::<serde_json::Value>(&String::from_utf8_lossy(body)).is_err();
        all_unreadable &= unreadable;
        transport.push_response(code, &[header], body.to_vec());
        answers += 1;
    }
    let operation = Operation::monitor(transport, "https://api.example/v1/operations/1")
        .with_protocol_kind(kind)
        .with_timer(VirtualTimer::new())
        .build()
        .expect("a valid monitor");
    let outcome = block_on(operation.outcome());
    if answers > 0 && all_unreadable {
        assert!(
            outcome.is_err(),
            "{kind:?}: success out of unreadable answers"
        );
    }
});
