//! A small HTTP/1.1 server on loopback for the mock services, with fault injection:
//! the next requests can fail with 500, hang, drop the connection, or be handled and
//! then dropped (the ambiguous failure: the server stored the result, the client
//! never heard). Hand-written so that every fault is exact.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// A request, as the handler sees it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, percent-decoded, without the query.
    pub path: String,
    /// Query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Content type.
    pub content_type: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Send only this many bytes of the body, then close the connection (a
    /// transfer that breaks half way; `Content-Length` still announces all).
    pub cut_at: Option<usize>,
}

impl Response {
    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self {
            status,
            content_type: "application/json".into(),
            headers: Vec::new(),
            body: value.to_string().into_bytes(),
            cut_at: None,
        }
    }

    /// An HTML response (what Werkzeug sends for 405 and 415).
    pub fn html(status: u16, body: &str) -> Self {
        Self {
            status,
            content_type: "text/html; charset=utf-8".into(),
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
            cut_at: None,
        }
    }

    /// A response with any content type.
    pub fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Self {
            status,
            content_type: content_type.into(),
            headers: Vec::new(),
            body,
            cut_at: None,
        }
    }
}

/// What the next request suffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answered with 500 and not handled.
    Status500,
    /// Not answered for this long, then the connection is closed; not handled.
    Hang(Duration),
    /// The connection is closed at once; not handled.
    Drop,
    /// Handled (a result is stored), then the connection is closed unanswered.
    DropAfterHandling,
}

type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// A running server; stops when dropped.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    faults: Arc<Mutex<VecDeque<Fault>>>,
    requests: Arc<AtomicUsize>,
}

impl Server {
    /// Starts serving `handler` on 127.0.0.1 at a free port.
    ///
    /// # Errors
    /// The port cannot be bound.
    pub fn start(handler: Arc<Handler>) -> std::io::Result<Self> {
        Self::start_at(
            "127.0.0.1:0".parse().map_err(std::io::Error::other)?,
            handler,
        )
    }

    /// Starts serving `handler` at `addr` (a service coming back on its old port).
    ///
    /// # Errors
    /// The address cannot be bound.
    pub fn start_at(addr: SocketAddr, handler: Arc<Handler>) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let faults = Arc::new(Mutex::new(VecDeque::new()));
        let requests = Arc::new(AtomicUsize::new(0));
        let (s, f, r) = (stop.clone(), faults.clone(), requests.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (h, f, r, s) = (handler.clone(), f.clone(), r.clone(), s.clone());
                thread::spawn(move || serve_connection(stream, &*h, &f, &r, &s));
            }
        });
        Ok(Self {
            addr,
            stop,
            faults,
            requests,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Makes the next requests suffer `faults`, in order.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        if let Ok(mut q) = self.faults.lock() {
            q.extend(faults);
        }
    }

    /// How many requests arrived, faulty ones included.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve_connection(
    stream: TcpStream,
    handler: &Handler,
    faults: &Mutex<VecDeque<Fault>>,
    count: &AtomicUsize,
    stop: &AtomicBool,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    // Small responses must not wait for the peer's delayed ACK.
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while !stop.load(Ordering::SeqCst) {
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        count.fetch_add(1, Ordering::SeqCst);
        let fault = faults.lock().ok().and_then(|mut q| q.pop_front());
        let response = match fault {
            Some(Fault::Status500) => Response::json(
                500,
                &serde_json::json!({"message": "Internal Server Error"}),
            ),
            Some(Fault::Hang(d)) => {
                thread::sleep(d);
                return;
            }
            Some(Fault::Drop) => return,
            Some(Fault::DropAfterHandling) => {
                let _ = handler(&request);
                return;
            }
            None => handler(&request),
        };
        let close = request
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        if write_response(&mut writer, &response).is_err() || close || response.cut_at.is_some() {
            return;
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length.min(64 << 20)];
    reader.read_exact(&mut body).ok()?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    Some(Request {
        method,
        path: decode(path),
        query,
        headers,
        body,
    })
}

fn write_response(w: &mut TcpStream, r: &Response) -> std::io::Result<()> {
    let reason = match r.status {
        200 => "OK",
        201 => "CREATED",
        202 => "ACCEPTED",
        300 => "MULTIPLE CHOICES",
        400 => "BAD REQUEST",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT FOUND",
        405 => "METHOD NOT ALLOWED",
        415 => "UNSUPPORTED MEDIA TYPE",
        500 => "INTERNAL SERVER ERROR",
        _ => "STATUS",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
        r.status,
        r.content_type,
        r.body.len()
    );
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    // One write: head and body in one segment.
    let mut bytes = head.into_bytes();
    let body = r
        .cut_at
        .map_or(&r.body[..], |n| &r.body[..n.min(r.body.len())]);
    bytes.extend_from_slice(body);
    w.write_all(&bytes)?;
    w.flush()
}

/// Percent-decoding, `+` as space, as query strings are written.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (_, Some(b)) => {
                out.push(b);
                i += 3;
                continue;
            }
            (b'+', None) => out.push(b' '),
            (b, None) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
