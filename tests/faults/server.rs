//! A loopback HTTP/1.1 server that fails the way real ones do: each
//! `(method, path)` answers from its own script (in order, the last step
//! repeating) with an answer, a connection reset, a stall, or a body cut
//! short; every request is logged with the time it arrived.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One scripted step.
#[derive(Debug, Clone)]
pub enum Step {
    /// An answer: status, headers, body.
    Answer(u16, Vec<(String, String)>, Vec<u8>),
    /// The connection is reset before any answer.
    Reset,
    /// No answer for this long (longer than the transport's time-out).
    Stall(Duration),
    /// A `200` whose body stops half-way (fewer bytes than `Content-Length`).
    Cut,
}

/// An answer with `status` and a JSON `body`.
pub fn json(status: u16, body: &str) -> Step {
    Step::Answer(
        status,
        vec![("content-type".into(), "application/json".into())],
        body.as_bytes().to_vec(),
    )
}

impl Step {
    /// Adds a header to an answer.
    pub fn header(self, name: &str, value: &str) -> Step {
        match self {
            Step::Answer(status, mut headers, body) => {
                headers.push((name.into(), value.into()));
                Step::Answer(status, headers, body)
            }
            other => other,
        }
    }
}

/// A request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub body: Vec<u8>,
    pub at: Instant,
}

#[derive(Default)]
struct Shared {
    scripts: HashMap<(String, String), VecDeque<Step>>,
    log: Vec<Seen>,
}

/// The server; it stops when dropped.
pub struct FaultServer {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultServer {
    /// A server on 127.0.0.1, on a free port.
    pub async fn start() -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let serving = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&serving)));
            }
        });
        FaultServer { addr, shared, task }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Scripts `method path`.
    pub fn on(&self, method: &str, path: &str, steps: Vec<Step>) {
        self.shared
            .lock()
            .unwrap()
            .scripts
            .insert((method.into(), path.into()), steps.into());
    }

    /// The requests for `method path`, in order.
    pub fn seen(&self, method: &str, path: &str) -> Vec<Seen> {
        self.shared
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|seen| seen.method == method && seen.path == path)
            .cloned()
            .collect()
    }
}

/// Reads one request, logs it, plays the next step of its script.
async fn serve(mut stream: TcpStream, shared: Arc<Mutex<Shared>>) {
    let Some((method, path, body)) = read_request(&mut stream).await else {
        return;
    };
    let step = {
        let mut shared = shared.lock().unwrap();
        shared.log.push(Seen {
            method: method.clone(),
            path: path.clone(),
            body,
            at: Instant::now(),
        });
        match shared.scripts.get_mut(&(method, path)) {
            Some(script) if script.len() > 1 => script.pop_front(),
            Some(script) => script.front().cloned(),
            None => None,
        }
    };
    let step = step.unwrap_or_else(|| json(404, r#"{"error":{"code":"notScripted"}}"#));
    match step {
        Step::Answer(status, headers, body) => {
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\ncontent-length: {}\r\nconnection: close\r\n",
                reason(status),
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&body).await;
            let _ = stream.shutdown().await;
        }
        Step::Reset => {
            // Linger 0: closing sends a RST, not a FIN.
            #[allow(deprecated)]
            let _ = stream.set_linger(Some(Duration::ZERO));
            drop(stream);
        }
        Step::Stall(delay) => {
            tokio::time::sleep(delay).await;
        }
        Step::Cut => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 200\r\nconnection: close\r\n\r\n{\"status\":\"Succ";
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.flush().await;
            drop(stream);
        }
    }
}

fn reason(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown")
}

/// The method, the path and the body of one request.
async fn read_request(stream: &mut TcpStream) -> Option<(String, String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?;
    let path = target.split('?').next()?.to_owned();
    let length = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buffer[end + 4..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    Some((method, path, body))
}
