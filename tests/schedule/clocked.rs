//! A scripted transport that notes the wall-clock time of every request on
//! the virtual timer it shares with the operation.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use lro_poller::testing::{ScriptedTransport, VirtualTimer};
use lro_poller::timer::Timer;
use lro_poller::{Transport, TransportError};

/// The wall clock every test starts at: a whole second, so that tokens'
/// millisecond times are exact.
pub fn wall() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// Requests as (seconds after [`wall`], URL).
pub type Sent = Vec<(Duration, String)>;

/// A [`ScriptedTransport`] whose requests are stamped with the time on
/// `timer`.
#[derive(Debug, Clone)]
pub struct Clocked {
    pub script: ScriptedTransport,
    timer: VirtualTimer,
    sent: Arc<Mutex<Sent>>,
}

impl Clocked {
    pub fn new(script: ScriptedTransport, timer: VirtualTimer) -> Self {
        Clocked {
            script,
            timer,
            sent: Arc::default(),
        }
    }

    /// The same script and log, stamped on another timer (a resumed
    /// operation's).
    pub fn on(&self, timer: VirtualTimer) -> Self {
        Clocked {
            script: self.script.clone(),
            timer,
            sent: Arc::clone(&self.sent),
        }
    }

    /// The requests sent so far, stamped.
    pub fn sent(&self) -> Sent {
        self.sent.lock().unwrap().clone()
    }
}

#[lro_poller::async_trait]
impl Transport for Clocked {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let at = self.timer.wall_clock().duration_since(wall()).unwrap();
        self.sent
            .lock()
            .unwrap()
            .push((at, request.uri().to_string()));
        self.script.send(request).await
    }
}
