//! A loopback HTTP server for the scenarios: each path answers from its own
//! script (in order, the last reply repeating), and every request is logged.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    delay: Option<Duration>,
}

/// A reply with `status` and no body.
pub fn reply(status: u16) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: Vec::new(),
        delay: None,
    }
}

impl Reply {
    /// Adds a header; `{base}` in the value becomes the server's base URL.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// A JSON body.
    pub fn json(self, body: &str) -> Self {
        self.header("content-type", "application/json").body(body)
    }

    /// A raw body.
    pub fn body(mut self, body: impl AsRef<[u8]>) -> Self {
        self.body = body.as_ref().to_vec();
        self
    }

    /// Waits before answering.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

/// A request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Default)]
struct Routes {
    scripts: HashMap<String, VecDeque<Reply>>,
    log: Vec<Seen>,
}

#[derive(Clone)]
struct Shared {
    routes: Arc<Mutex<Routes>>,
    base: String,
}

/// A running loopback server.
pub struct Server {
    shared: Shared,
    pub addr: SocketAddr,
}

impl Server {
    /// Starts a server on 127.0.0.1 with a free port.
    pub async fn start() -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Shared {
            routes: Arc::default(),
            base: format!("http://{addr}"),
        };
        let app = Router::new().fallback(handle).with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Server { shared, addr }
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn base(&self) -> &str {
        &self.shared.base
    }

    /// An absolute URL on this server.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.shared.base, path_and_query)
    }

    /// Scripts `path`: answered in order, the last reply repeating.
    pub fn on(&self, path: &str, replies: Vec<Reply>) -> &Self {
        self.shared
            .routes
            .lock()
            .unwrap()
            .scripts
            .insert(path.to_string(), replies.into());
        self
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.shared.routes.lock().unwrap().log.clone()
    }

    /// Requests to `path`.
    pub fn requests_to(&self, path: &str) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let next = {
        let mut routes = shared.routes.lock().unwrap();
        routes.log.push(Seen {
            method,
            path: path.clone(),
            query: uri.query().map(str::to_owned),
            headers,
            body,
        });
        routes.scripts.get_mut(&path).and_then(|script| {
            if script.len() > 1 {
                script.pop_front()
            } else {
                script.front().cloned()
            }
        })
    };
    let Some(reply) = next else {
        return (StatusCode::NOT_FOUND, format!("no script for {path}")).into_response();
    };
    if let Some(delay) = reply.delay {
        tokio::time::sleep(delay).await;
    }
    let mut response = reply.body.clone().into_response();
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap();
    for (name, value) in &reply.headers {
        let value = value.replace("{base}", &shared.base);
        response.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(&value).unwrap(),
        );
    }
    response
}
