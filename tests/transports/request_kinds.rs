//! Every request the operation sends is marked with its kind for the
//! transport.

use lro_poller::{Operation, RequestKind};

use crate::support::{Server, fast, reply, request, run};

#[tokio::test]
async fn every_request_is_marked_with_its_kind() {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<lro_poller::RequestMeta>>>);
    #[async_trait::async_trait]
    impl lro_poller::Transport for Recorder {
        async fn send(
            &self,
            request: http::Request<bytes::Bytes>,
        ) -> Result<http::Response<bytes::Bytes>, lro_poller::TransportError> {
            if let Some(meta) = request.extensions().get::<lro_poller::RequestMeta>() {
                self.0.lock().unwrap().push(*meta);
            }
            crate::support::transport().send(request).await
        }
    }
    let server = Server::start().await;
    server.on(
        "/things/1",
        vec![
            reply(201)
                .header("azure-asyncoperation", "/ops/9")
                .json(r#"{"properties":{"provisioningState":"Creating"}}"#),
            reply(200).json(r#"{"id":"/things/1","properties":{"provisioningState":"Succeeded"}}"#),
        ],
    );
    server.on("/ops/9", vec![reply(200).json(r#"{"status":"Succeeded"}"#)]);
    let recorder = Recorder::default();
    let builder = Operation::start(
        recorder.clone(),
        request("PUT", &server.url("/things/1"), "{}"),
    )
    .with_policy(fast());
    let outcome = run(builder).await.1.unwrap();
    assert_eq!(outcome.resource_id(), None);
    let body: serde_json::Value = outcome.json().unwrap();
    assert_eq!(body["id"], "/things/1");
    let kinds: Vec<_> = recorder.0.lock().unwrap().iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        [RequestKind::Start, RequestKind::Poll, RequestKind::Result]
    );
    assert!(recorder.0.lock().unwrap().iter().all(|m| m.same_origin));
}
