//! Property tests of resume tokens: the string form is lossless, and no input
//! makes the parser panic.

use lro_poller::ResumeToken;
use lro_poller::protocol::SavedProtocol;
use lro_poller::protocol::{Azure, AzureMode, FinalStateVia, Protocol};
use proptest::prelude::*;

fn url() -> impl Strategy<Value = url::Url> {
    (
        prop_oneof![Just("http"), Just("https")],
        "[a-z][a-z0-9-]{0,20}(\\.[a-z]{2,6})?",
        proptest::option::of(1u16..),
        "(/[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,12}){0,4}",
        proptest::option::of("[A-Za-z0-9=&%._~-]{0,40}"),
    )
        .prop_filter_map("valid URL", |(scheme, host, port, path, query)| {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let query = query.map(|q| format!("?{q}")).unwrap_or_default();
            url::Url::parse(&format!("{scheme}://{host}{port}{path}{query}")).ok()
        })
}

fn protocol() -> impl Strategy<Value = SavedProtocol> {
    let mode = prop_oneof![
        Just(AzureMode::AsyncOperation),
        Just(AzureMode::OperationLocation),
        Just(AzureMode::Location),
        Just(AzureMode::Body),
    ];
    let via = prop_oneof![
        Just(FinalStateVia::Location),
        Just(FinalStateVia::AzureAsyncOperation),
        Just(FinalStateVia::OriginalUri),
        Just(FinalStateVia::OperationLocation),
    ];
    prop_oneof![
        Just(SavedProtocol::new("graph")),
        Just(SavedProtocol::new("auto")),
        Just(SavedProtocol::new("google")),
        (mode, via, url(), proptest::option::of(url())).prop_map(
            |(mode, via, original, location)| {
                Azure::new(mode, via, original, location).save().unwrap()
            }
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn token_string_round_trip_is_lossless(
        protocol in protocol(),
        monitor in url(),
        origin in url(),
        started in any::<u64>(),
        polls in any::<u32>(),
    ) {
        let mut token = ResumeToken::new(protocol, monitor);
        token.origin = origin.to_string();
        token.started_at_ms = started;
        token.polls = polls;
        let text = token.to_string();
        prop_assert!(text.starts_with("lro1."));
        let back: ResumeToken = text.parse().unwrap();
        prop_assert_eq!(&back, &token);
        // serde form too
        let json = serde_json::to_string(&token).unwrap();
        let from_json: ResumeToken = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(from_json, token);
    }

    #[test]
    fn arbitrary_strings_never_panic_the_parser(text in ".{0,400}") {
        let _ = text.parse::<ResumeToken>();
        let _ = format!("lro1.{text}").parse::<ResumeToken>();
    }

    #[test]
    fn arbitrary_base64_payloads_never_panic_the_parser(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        use base64::Engine as _;
        let text = format!("lro1.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes));
        let _ = text.parse::<ResumeToken>();
    }

    #[test]
    fn damaged_tokens_are_refused_not_misread(index in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let token = ResumeToken::new(SavedProtocol::new("graph"), url::Url::parse("https://api.example/monitor/1?tempauth=x").unwrap());
        let mut text = token.to_string().into_bytes();
        let i = index.index(text.len());
        text[i] = byte;
        if let Ok(text) = String::from_utf8(text) {
            if let Ok(parsed) = text.parse::<ResumeToken>() {
                // A change that still parses must have kept a valid token.
                prop_assert!(parsed.validate().is_ok());
            }
        }
    }
}
