//! A loopback HTTP/1.1 server that runs a core handler the way Spin runs a component:
//! the request is read with a body limit, handed over as a [`Request`], and the handler's
//! [`HttpResponse`] is written back. Each connection gets its own thread and current-thread
//! runtime (the core's futures are not `Send`, as in Spin).

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use qwen_core::ports::HttpResponse;
use qwen_http::{Request, declared_too_large, too_large};

/// Something that answers requests: the adapter around a core handler.
#[async_trait(?Send)]
pub trait Handler {
    /// Answers one request.
    async fn call(&self, req: Request) -> HttpResponse;
}

/// Builds one handler per connection thread (so per-thread state such as a Redis
/// connection lives on that thread's runtime).
pub type HandlerFactory = Arc<dyn Fn() -> Box<dyn Handler> + Send + Sync>;

/// A running loopback server; stops when dropped.
pub struct TestServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl TestServer {
    /// Binds 127.0.0.1 on a free port and serves `factory`'s handlers, refusing bodies over
    /// `max_body` bytes with 413.
    ///
    /// # Errors
    /// The bind error.
    pub fn start(factory: HandlerFactory, max_body: usize) -> std::io::Result<TestServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || accept_loop(listener, factory, max_body, flag));
        Ok(TestServer { addr, stop })
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(self.addr);
    }
}

fn accept_loop(
    listener: TcpListener,
    factory: HandlerFactory,
    max_body: usize,
    stop: Arc<AtomicBool>,
) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let factory = factory.clone();
        std::thread::spawn(move || serve_connection(stream, factory, max_body));
    }
}

fn serve_connection(stream: std::net::TcpStream, factory: HandlerFactory, max_body: usize) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_nonblocking(true);
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    rt.block_on(async move {
        let Ok(stream) = tokio::net::TcpStream::from_std(stream) else {
            return;
        };
        let handler: Arc<dyn Handler> = Arc::from(factory());
        let service = hyper::service::service_fn(move |req| {
            let handler = handler.clone();
            async move {
                Ok::<_, std::convert::Infallible>(answer(handler.as_ref(), req, max_body).await)
            }
        });
        let io = hyper_util::rt::TokioIo::new(stream);
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(io, service)
            .await;
    });
}

async fn answer(
    handler: &dyn Handler,
    req: hyper::Request<Incoming>,
    max_body: usize,
) -> hyper::Response<Full<Bytes>> {
    let resp = match read_request(req, max_body).await {
        Ok(r) => handler.call(r).await,
        Err(resp) => resp,
    };
    to_hyper(resp)
}

/// Reads a hyper request into the core's [`Request`], enforcing the body limit.
///
/// # Errors
/// The 413 answer when the body is over `max_body`.
pub async fn read_request(
    req: hyper::Request<Incoming>,
    max_body: usize,
) -> Result<Request, HttpResponse> {
    let (parts, body) = req.into_parts();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    if declared_too_large(&headers, max_body) {
        return Err(too_large(max_body));
    }
    let body = read_limited(body, max_body).await?;
    Ok(Request {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers,
        body,
    })
}

/// Collects at most `limit` bytes. Past the limit the rest is drained (up to a bound) before
/// the 413 is sent, so that a client still streaming its body reads the answer instead of a
/// connection reset.
async fn read_limited(body: Incoming, limit: usize) -> Result<Vec<u8>, HttpResponse> {
    let mut body = body;
    let mut bytes = Vec::new();
    let mut drained = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        if bytes.len() + chunk.len() <= limit && drained == 0 {
            bytes.extend_from_slice(&chunk);
        } else {
            drained += chunk.len();
            if drained > DRAIN_LIMIT {
                break;
            }
        }
    }
    if drained > 0 {
        Err(too_large(limit))
    } else {
        Ok(bytes)
    }
}

/// How much of an oversized body is read and thrown away before answering 413.
const DRAIN_LIMIT: usize = 1 << 20;

/// The hyper response of `resp`. One the HTTP library refuses (a bad status, header name or
/// value) becomes a logged 500, never a 200 with an error body; a valid one keeps every
/// header.
fn to_hyper(resp: HttpResponse) -> hyper::Response<Full<Bytes>> {
    let mut builder = hyper::Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder
        .body(Full::new(Bytes::from(resp.body)))
        .unwrap_or_else(|e| {
            tracing::error!(status = resp.status, error = %e, "invalid response; answering 500");
            let mut r = hyper::Response::new(Full::new(Bytes::from_static(
                b"{\"error\":{\"code\":\"internal\",\"message\":\"the server built an invalid response\"}}",
            )));
            *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Vec<(String, String)>);

    #[async_trait(?Send)]
    impl Handler for Fixed {
        async fn call(&self, _req: Request) -> HttpResponse {
            HttpResponse {
                status: 200,
                headers: self.0.clone(),
                body: b"page".to_vec(),
            }
        }
    }

    async fn answer_of(headers: &[(&str, &str)]) -> reqwest::Response {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let factory: HandlerFactory = Arc::new(move || Box::new(Fixed(headers.clone())));
        let server = TestServer::start(factory, 1024).expect("server");
        reqwest::get(server.url()).await.expect("answer")
    }

    #[tokio::test]
    async fn an_invalid_header_is_a_500_and_valid_cookies_all_arrive() {
        let bad = answer_of(&[("set-cookie", "a=1"), ("x-bad", "line\nbreak")]).await;
        assert_eq!(bad.status().as_u16(), 500);
        assert!(bad.text().await.unwrap_or_default().contains("internal"));
        let ok = answer_of(&[("set-cookie", "a=1; Path=/"), ("set-cookie", "b=2")]).await;
        assert_eq!(ok.status().as_u16(), 200);
        let cookies: Vec<_> = ok.headers().get_all("set-cookie").iter().collect();
        assert_eq!(cookies.len(), 2);
    }
}
