//! The embedded stylesheet and script, served under `/console/assets/`.

use qwen_core::ports::HttpResponse;
use qwen_http::Request;

use crate::html;

const CSS: &str = include_str!("../assets/console.css");
const JS: &str = include_str!("../assets/console.js");

/// The embedded stylesheet and script.
pub fn asset(req: &Request) -> Option<HttpResponse> {
    let (body, kind) = match req.path.as_str() {
        "/console/assets/console.css" => (CSS, "text/css; charset=utf-8"),
        "/console/assets/console.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return None,
    };
    Some(HttpResponse {
        status: 200,
        headers: html::secure_headers(kind),
        body: body.as_bytes().to_vec(),
    })
}
