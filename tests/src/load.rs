//! A small HTTP load generator for benchmarks against a server on loopback.
//!
//! `concurrency` workers send requests back to back for a fixed time, each on a **new TCP
//! connection** (`Connection: close`, no keep-alive) and each reading the whole response to
//! the end, as many independent clients (Telegram, YooKassa, operators) do. A request factory
//! builds every request from its sequence number, so each one can carry a unique
//! `update_id` or job body. Every request's status and latency is recorded; transport errors
//! and timeouts count as status `0`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: &'static str,
    /// Path and query, e.g. `/api/jobs/`.
    pub path: String,
    /// Extra headers (`Host`, `Connection` and `Content-Length` are always sent).
    pub headers: Vec<(String, String)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
}

impl Request {
    /// A `GET` of `path`.
    pub fn get(path: &str) -> Request {
        Request {
            method: "GET",
            path: path.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A `POST` of `body` as JSON to `path`.
    pub fn post_json(path: &str, body: &serde_json::Value) -> Request {
        Request {
            method: "POST",
            path: path.to_owned(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(body).unwrap_or_default(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn encode(&self, addr: SocketAddr) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
            self.method,
            self.path,
            self.body.len()
        );
        for (k, v) in &self.headers {
            head.push_str(k);
            head.push_str(": ");
            head.push_str(v);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

/// How to load the server.
#[derive(Debug, Clone)]
pub struct Load {
    /// Concurrent clients.
    pub concurrency: usize,
    /// Time before measuring: requests started then are sent but not recorded.
    pub warmup: Duration,
    /// The measured time: requests started in it are recorded.
    pub duration: Duration,
    /// Per request; a request that takes longer counts as status `0`.
    pub timeout: Duration,
}

impl Default for Load {
    /// 16 clients, 0.5 s of warm-up, 3 s measured, 10 s per request.
    fn default() -> Load {
        Load {
            concurrency: 16,
            warmup: Duration::from_millis(500),
            duration: Duration::from_secs(3),
            timeout: Duration::from_secs(10),
        }
    }
}

/// One recorded request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// Its sequence number (what the factory got).
    pub seq: u64,
    /// The HTTP status; `0` for a transport error, an unreadable answer or a timeout.
    pub status: u16,
    /// From before `connect` to the end of the response.
    pub latency: Duration,
}

impl Outcome {
    /// A 2xx answer.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// What a run measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every request started in the measured time, in completion order per worker.
    pub outcomes: Vec<Outcome>,
    /// From the start of the measured time to the last recorded response.
    pub wall: Duration,
    /// Requests sent during the warm-up (not in `outcomes`).
    pub warmup_requests: u64,
}

impl Report {
    /// Recorded requests.
    pub fn count(&self) -> usize {
        self.outcomes.len()
    }

    /// Recorded requests per second of wall time.
    pub fn per_s(&self) -> f64 {
        let secs = self.wall.as_secs_f64();
        if secs > 0.0 {
            self.count() as f64 / secs
        } else {
            0.0
        }
    }

    /// Requests that did not answer 2xx (transport errors included).
    pub fn errors(&self) -> usize {
        self.outcomes.iter().filter(|o| !o.ok()).count()
    }

    /// How many requests ended with each status (`0`: transport error or timeout).
    pub fn statuses(&self) -> BTreeMap<u16, usize> {
        let mut m = BTreeMap::new();
        for o in &self.outcomes {
            *m.entry(o.status).or_insert(0) += 1;
        }
        m
    }

    /// The `p` quantile (0..=1, nearest rank) of the latency of `which` requests, in ms
    /// (NaN when none).
    pub fn quantile_ms_of(&self, p: f64, which: impl Fn(&Outcome) -> bool) -> f64 {
        let mut lat: Vec<Duration> = self
            .outcomes
            .iter()
            .filter(|o| which(o))
            .map(|o| o.latency)
            .collect();
        if lat.is_empty() {
            return f64::NAN;
        }
        lat.sort();
        let rank = (p * lat.len() as f64).ceil() as usize;
        lat[rank.clamp(1, lat.len()) - 1].as_secs_f64() * 1000.0
    }

    /// The `p` quantile of every recorded request's latency, in ms.
    pub fn quantile_ms(&self, p: f64) -> f64 {
        self.quantile_ms_of(p, |_| true)
    }

    /// Median latency, ms.
    pub fn p50_ms(&self) -> f64 {
        self.quantile_ms(0.50)
    }

    /// 99th percentile latency, ms.
    pub fn p99_ms(&self) -> f64 {
        self.quantile_ms(0.99)
    }

    /// One line for humans: count, rate, latencies, statuses.
    pub fn summary(&self) -> String {
        format!(
            "{} requests in {:.2} s (+{} warm-up) = {:.0}/s; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; non-2xx {}; statuses {:?}",
            self.count(),
            self.wall.as_secs_f64(),
            self.warmup_requests,
            self.per_s(),
            self.p50_ms(),
            self.p99_ms(),
            self.quantile_ms(1.0),
            self.errors(),
            self.statuses()
        )
    }
}

/// Sends one request on a new connection and reads the answer to its end; the status, or `0`.
pub async fn exchange(addr: SocketAddr, req: &Request, timeout: Duration) -> u16 {
    let wire = req.encode(addr);
    let attempt = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        let _ = stream.set_nodelay(true);
        stream.write_all(&wire).await.ok()?;
        let mut answer = Vec::with_capacity(1024);
        stream.read_to_end(&mut answer).await.ok()?;
        parse_status(&answer)
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(0)
}

/// The status of an HTTP/1.x answer (`HTTP/1.1 200 OK…`).
fn parse_status(answer: &[u8]) -> Option<u16> {
    let line = answer.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    parts.next()?.parse().ok()
}

/// Loads `addr` as `load` says with the requests `factory` builds from their sequence
/// numbers (0, 1, 2, … across all workers, warm-up included).
pub async fn run<F>(addr: SocketAddr, load: &Load, factory: F) -> Report
where
    F: Fn(u64) -> Request + Send + Sync + 'static,
{
    let factory = Arc::new(factory);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let measured_from = started + load.warmup;
    let measured_until = measured_from + load.duration;
    let workers: Vec<_> = (0..load.concurrency.max(1))
        .map(|_| {
            let (factory, next, timeout) = (factory.clone(), next.clone(), load.timeout);
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                let mut warmup = 0u64;
                let mut last_end = measured_from;
                loop {
                    let begin = Instant::now();
                    if begin >= measured_until {
                        break;
                    }
                    let seq = next.fetch_add(1, Ordering::Relaxed);
                    let req = factory(seq);
                    let status = exchange(addr, &req, timeout).await;
                    let end = Instant::now();
                    if begin >= measured_from {
                        outcomes.push(Outcome {
                            seq,
                            status,
                            latency: end - begin,
                        });
                        last_end = last_end.max(end);
                    } else {
                        warmup += 1;
                    }
                }
                (outcomes, warmup, last_end)
            })
        })
        .collect();
    let mut report = Report::default();
    let mut last_end = measured_from;
    for w in workers {
        if let Ok((outcomes, warmup, end)) = w.await {
            report.outcomes.extend(outcomes);
            report.warmup_requests += warmup;
            last_end = last_end.max(end);
        }
    }
    report.wall = last_end.saturating_duration_since(measured_from);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_parse_and_quantiles_use_nearest_rank() {
        assert_eq!(parse_status(b"HTTP/1.1 201 Created\r\n\r\n"), Some(201));
        assert_eq!(parse_status(b"garbage"), None);
        assert_eq!(parse_status(b""), None);
        let outcomes = (1..=100)
            .map(|i| Outcome {
                seq: i,
                status: if i % 10 == 0 { 500 } else { 200 },
                latency: Duration::from_millis(i),
            })
            .collect();
        let r = Report {
            outcomes,
            wall: Duration::from_secs(2),
            warmup_requests: 0,
        };
        assert_eq!(r.p50_ms(), 50.0);
        assert_eq!(r.p99_ms(), 99.0);
        assert_eq!(r.errors(), 10);
        assert_eq!(r.per_s(), 50.0);
        let req = Request::get("/health")
            .header("x-a", "b")
            .encode(([127, 0, 0, 1], 80).into());
        assert_eq!(
            String::from_utf8_lossy(&req),
            "GET /health HTTP/1.1\r\nhost: 127.0.0.1:80\r\nconnection: close\r\ncontent-length: 0\r\nx-a: b\r\n\r\n"
        );
    }
}
