//! A monitor URL's token is never printed, whatever the outcome or the mode.

mod support;

use support::graph_copy::graph_copy;
use support::run::{assert_no_secret, lro, lro_json};
use support::server::{Server, reply};

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
