//! Sending the start request again after a transient failure, when that is
//! safe.
//!
//! A start request that meets an I/O error, `408`, `429` or a `5xx` (as the
//! operation's [`ErrorPolicy`] classifies them) is sent again, byte for byte,
//! when repeating it cannot do the work twice: its method is idempotent
//! (RFC 9110 §9.2.2: `GET`, `HEAD`, `OPTIONS`, `TRACE`, `PUT`, `DELETE`), or
//! it carries an idempotency key the service de-duplicates on
//! (`Repeatability-Request-ID` with `Repeatability-First-Sent`, OASIS
//! Repeatable Requests as Azure uses them; or `Idempotency-Key`). A `POST`
//! or `PATCH` without one is retried only when the caller says so
//! ([`StartRetry::Always`]). The wait before each retry goes through the
//! operation's [`PollPolicy`] like a failed poll's: the same backoff, the
//! answer's `Retry-After`, the same floor and the same deadline; the
//! [`ErrorPolicy`]'s limit on consecutive failures bounds the retries.

use crate::origin::redact;
use crate::policy::FailureClass;
use crate::transport::RequestKind;

use super::core::Operation;
use super::retry::{Answer, failure_of, request_error};
use super::start_request::StartSetup;

impl Operation {
    /// Reads the answer to the start request: sends it again after a
    /// transient failure when that is allowed, else reads it; returns a
    /// status to yield, if any.
    pub(super) fn start_answered(&mut self, answer: Answer, setup: Box<StartSetup>) -> bool {
        let schedule = self.schedule();
        let failure = failure_of(schedule.errors(), schedule.policy(), self.clock(), &answer);
        let Some((class, retry_after)) = failure else {
            self.schedule_mut().set_failures(0);
            return self.on_start(answer, setup.into_request());
        };
        let attempts = self.schedule().failures().saturating_add(1);
        let again = setup.may_repeat()
            && class == FailureClass::Transient
            && self.schedule().errors().may_retry(attempts);
        if !again && attempts == 1 {
            // Never retried: the answer is read as it is.
            return self.on_start(answer, setup.into_request());
        }
        let url = redact(self.watch().origin());
        let error = request_error(RequestKind::Start, url, answer, attempts);
        if !again {
            self.fail(error);
            return false;
        }
        #[cfg(feature = "tracing")]
        tracing::debug!(
            parent: self.span(),
            error = %error,
            attempts,
            retry_after = ?retry_after,
            "the start request failed; sending it again"
        );
        self.schedule_mut().set_failures(attempts);
        self.set_start(Box::new(setup.again()));
        // A limit or the deadline may end the operation here: the start
        // stays unanswered (and the operation has no resume token).
        self.retry_after_failure(RequestKind::Start, attempts, retry_after, error);
        false
    }
}

#[cfg(test)]
mod tests {
    use std::task::Context;
    use std::time::Duration;

    use super::super::builder::OperationBuilder;
    use bytes::Bytes;

    use super::super::start_request::{StartRetry, is_idempotent};
    use super::*;
    use crate::error::Error;
    use crate::policy::ConstantBuilder;
    use crate::policy::{ErrorPolicy, PollPolicy};
    use crate::testing::{ScriptedTransport, VirtualTimer};
    use crate::transport::Transport;
    use crate::transport::TransportError;
    use futures::StreamExt;
    use futures::executor::block_on;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn started(
        transport: &ScriptedTransport,
        timer: &VirtualTimer,
        method: &str,
        policy: PollPolicy,
    ) -> OperationBuilder {
        let request = http::Request::builder()
            .method(method)
            .uri("https://api.example/things/1")
            .body(Bytes::from_static(b"{\"size\":1}"))
            .unwrap();
        Operation::start(transport.clone(), request)
            .with_timer(timer.clone())
            .with_policy(policy)
    }

    #[test]
    fn a_transient_failure_is_retried_after_the_policy_and_retry_after() {
        let transport = ScriptedTransport::new();
        transport.push_response(503, &[("retry-after", "7")], "busy");
        transport.push(Err(TransportError::connect("refused")));
        transport.push_response(200, &[], "{\"id\":\"1\"}");
        let timer = VirtualTimer::new();
        let mut op = started(
            &transport,
            &timer,
            "PUT",
            PollPolicy::new(ConstantBuilder::new(secs(2))),
        )
        .build()
        .unwrap();
        let items = block_on(op.by_ref().collect::<Vec<_>>());
        assert_eq!(items.len(), 1);
        assert_eq!(
            items[0].as_ref().unwrap().status,
            crate::JobState::Completed
        );
        // Retry-After (7 s) as a floor over the backoff (2 s), then the backoff.
        assert_eq!(timer.sleeps(), [secs(7), secs(2)]);
        let requests = transport.requests();
        assert_eq!(requests.len(), 3);
        for request in &requests {
            assert_eq!(request.method, "PUT");
            assert_eq!(request.body.as_ref(), b"{\"size\":1}");
            assert_eq!(request.meta.unwrap().kind, RequestKind::Start);
        }
        assert_eq!(op.polls(), 0, "start attempts are not polls");
        assert!(block_on(op.outcome()).is_ok());
    }

    #[test]
    fn the_retries_are_bounded_and_the_last_error_counts_them() {
        let transport = ScriptedTransport::new();
        for _ in 0..4 {
            transport.push_response(500, &[], r#"{"error":{"code":"InternalError"}}"#);
        }
        let timer = VirtualTimer::new();
        let errors = ErrorPolicy::default().with_max_retries(2);
        let op = started(
            &transport,
            &timer,
            "DELETE",
            PollPolicy::new(ConstantBuilder::new(secs(1))),
        )
        .with_error_policy(errors)
        .build()
        .unwrap();
        match block_on(op.outcome()) {
            Err(Error::Request(http)) => {
                assert_eq!(http.status().unwrap(), 500);
                assert_eq!(http.kind(), RequestKind::Start);
                assert_eq!(http.attempts(), 3);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(transport.requests().len(), 3);
        assert_eq!(transport.remaining(), 1);
    }

    #[test]
    fn the_deadline_stops_the_retries() {
        let transport = ScriptedTransport::new();
        for _ in 0..10 {
            transport.push_response(503, &[("retry-after", "30")], "");
        }
        let timer = VirtualTimer::new();
        let policy = PollPolicy::new(ConstantBuilder::new(secs(1))).with_deadline(secs(45));
        let op = started(&transport, &timer, "PUT", policy).build().unwrap();
        let mut op = op;
        let items = block_on(op.by_ref().collect::<Vec<_>>());
        assert_eq!(items.len(), 1);
        assert!(op.resume_token().is_none(), "the job was never started");
        let error = block_on(op.outcome()).unwrap_err();
        assert!(
            matches!(&error, Error::GaveUp(g) if *g.cause() == crate::GaveUpCause::Deadline),
            "{error:?}"
        );
        assert!(error.resume_token().is_none());
        // 0 s, 30 s, then 45 s (the last try at the deadline).
        assert_eq!(transport.requests().len(), 3);
        assert_eq!(timer.sleeps(), [secs(30), secs(15)]);
    }

    #[test]
    fn a_post_is_not_retried_unless_opted_in_or_keyed() {
        let timer = VirtualTimer::new();
        let policy = || PollPolicy::new(ConstantBuilder::new(secs(1)));
        let plain = ScriptedTransport::new();
        plain.push_response(503, &[], "");
        plain.push_response(200, &[], "");
        let op = started(&plain, &timer, "POST", policy()).build().unwrap();
        match block_on(op.outcome()) {
            Err(Error::Request(http)) => assert_eq!(http.attempts(), 1),
            other => panic!("{other:?}"),
        }
        assert_eq!(plain.requests().len(), 1);

        let opted = ScriptedTransport::new();
        opted.push_response(503, &[], "");
        opted.push_response(200, &[], "");
        let op = started(&opted, &timer, "POST", policy())
            .with_start_retry(StartRetry::Always)
            .build()
            .unwrap();
        assert!(block_on(op.outcome()).is_ok());
        assert_eq!(opted.requests().len(), 2);

        let never = ScriptedTransport::new();
        never.push_response(503, &[], "");
        let op = started(&never, &timer, "GET", policy())
            .with_start_retry(StartRetry::Never)
            .build()
            .unwrap();
        assert!(block_on(op.outcome()).is_err());
        assert_eq!(never.requests().len(), 1);
    }

    #[test]
    fn a_permanent_failure_is_not_retried() {
        let transport = ScriptedTransport::new();
        transport.push_response(400, &[], r#"{"error":{"code":"BadRequest"}}"#);
        transport.push(Err(TransportError::invalid_request("bad")));
        let timer = VirtualTimer::new();
        let op = started(&transport, &timer, "PUT", PollPolicy::default())
            .build()
            .unwrap();
        assert!(matches!(block_on(op.outcome()), Err(Error::Request(e)) if e.status().is_some()));
        assert_eq!(transport.requests().len(), 1);
        // A transient failure, then a permanent one: the permanent one ends it.
        let transport = ScriptedTransport::new();
        transport.push_response(502, &[], "");
        transport.push_response(403, &[], "");
        let op = started(
            &transport,
            &timer,
            "PUT",
            PollPolicy::new(ConstantBuilder::new(secs(1))),
        )
        .build()
        .unwrap();
        match block_on(op.outcome()) {
            Err(Error::Request(http)) => {
                assert_eq!(http.status().unwrap(), 403);
                assert_eq!(http.attempts(), 2);
            }
            other => panic!("{other:?}"),
        }
    }

    /// Answers the first request from a script, then never answers.
    struct FirstOnly(ScriptedTransport);

    #[async_trait::async_trait]
    impl Transport for FirstOnly {
        async fn send(
            &self,
            request: http::Request<Bytes>,
        ) -> Result<http::Response<Bytes>, TransportError> {
            if self.0.requests().is_empty() {
                self.0.send(request).await
            } else {
                futures::future::pending().await
            }
        }
    }

    #[test]
    fn the_notice_says_which_attempt_comes_next_and_why() {
        let transport = ScriptedTransport::new();
        transport.push_response(429, &[("retry-after", "3")], "slow down");
        let timer = VirtualTimer::new();
        let request = http::Request::put("https://api.example/things/1")
            .body(Bytes::new())
            .unwrap();
        let notices = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&notices);
        let mut op = Operation::start(FirstOnly(transport.clone()), request)
            .with_timer(timer.clone())
            .with_policy(PollPolicy::new(ConstantBuilder::new(secs(1))).without_deadline())
            .on_retry(move |notice| seen.lock().unwrap().push(notice.clone()))
            .build()
            .unwrap();
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(op.poll_report(&mut cx).is_pending());
        // The retry is on its way; the notice said why.
        let notices = notices.lock().unwrap();
        assert_eq!(notices.len(), 1);
        let notice = &notices[0];
        assert_eq!(notice.request, RequestKind::Start);
        assert_eq!(notice.attempt, 2);
        assert_eq!(notice.delay, secs(3));
        assert_eq!(notice.error.http_status().map(|s| s.as_u16()), Some(429));
        assert_eq!(timer.sleeps(), [secs(3)]);
        assert!(op.resume_token().is_none(), "not started yet");
    }

    #[test]
    fn start_retries_do_not_count_against_the_poll_limit() {
        let transport = ScriptedTransport::new();
        for _ in 0..3 {
            transport.push_response(503, &[], "busy");
        }
        transport.push_response(200, &[], "{}");
        let timer = VirtualTimer::new();
        let policy = PollPolicy::new(ConstantBuilder::new(secs(1))).with_max_polls(1);
        let op = started(&transport, &timer, "PUT", policy).build().unwrap();
        assert!(block_on(op.outcome()).is_ok());
        assert_eq!(transport.requests().len(), 4);
    }

    #[test]
    fn start_retries_back_off_attempt_after_attempt() {
        let transport = ScriptedTransport::new();
        for _ in 0..3 {
            transport.push_response(503, &[], "busy");
        }
        transport.push_response(200, &[], "{}");
        let timer = VirtualTimer::new();
        let backoff = crate::policy::ExponentialBuilder::new(secs(1), 2.0, secs(60));
        let op = started(&transport, &timer, "PUT", PollPolicy::new(backoff))
            .build()
            .unwrap();
        assert!(block_on(op.outcome()).is_ok());
        assert_eq!(timer.sleeps(), [secs(1), secs(2), secs(4)]);
    }

    fn request(method: &str, headers: &[(&str, &str)]) -> http::Request<Bytes> {
        let mut builder = http::Request::builder()
            .method(method)
            .uri("https://api.example/x");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Bytes::new()).unwrap()
    }

    #[test]
    fn only_idempotent_requests_are_retried_by_default() {
        for method in ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"] {
            assert!(is_idempotent(&request(method, &[])), "{method}");
        }
        for method in ["POST", "PATCH", "CONNECT", "PURGE"] {
            assert!(!is_idempotent(&request(method, &[])), "{method}");
            assert!(!StartRetry::IfIdempotent.allows(&request(method, &[])));
            assert!(StartRetry::Always.allows(&request(method, &[])));
        }
        let first_sent = ("repeatability-first-sent", "Tue, 15 Nov 1994 08:12:31 GMT");
        let id = (
            "repeatability-request-id",
            "a5f6e6d2-0000-4c8b-9b0e-3c3f2b1e7f10",
        );
        assert!(is_idempotent(&request("POST", &[id, first_sent])));
        assert!(!is_idempotent(&request("POST", &[id])), "both are required");
        assert!(!is_idempotent(&request("POST", &[first_sent])));
        assert!(is_idempotent(&request(
            "PATCH",
            &[("Idempotency-Key", "k1")]
        )));
        assert!(!StartRetry::Never.allows(&request("GET", &[])));
        assert_eq!(StartRetry::default(), StartRetry::IfIdempotent);
    }
}
