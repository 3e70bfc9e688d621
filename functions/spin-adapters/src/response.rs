//! Checking an answer before it becomes an HTTP response: a status or header the HTTP
//! library would refuse turns the whole answer into a logged 500, never into a 200 with an
//! error body, and a valid answer keeps every header (each `Set-Cookie` included).

use qwen_core::ports::HttpResponse;

/// What makes `resp` unsendable (a status outside 100–999, a header name that is not a
/// token, a header value with a control or non-ASCII character), if anything.
pub fn problem(resp: &HttpResponse) -> Option<String> {
    if !(100..=999).contains(&resp.status) {
        return Some(format!("status {}", resp.status));
    }
    resp.headers.iter().find_map(|(name, value)| {
        if !valid_name(name) {
            Some(format!("header name {name:?}"))
        } else if !valid_value(value) {
            Some(format!("value of header {name}"))
        } else {
            None
        }
    })
}

/// Whether `name` is an HTTP token (RFC 9110 `tchar`s, at least one).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `value` is visible ASCII, spaces and tabs only (what the HTTP library takes).
pub fn valid_value(value: &str) -> bool {
    value.bytes().all(|b| b == b'\t' || (32..127).contains(&b))
}

/// `resp` when it can be sent as it is; otherwise a 500 (logged with what was wrong).
pub fn checked(resp: HttpResponse) -> HttpResponse {
    let Some(what) = problem(&resp) else {
        return resp;
    };
    tracing::error!(status = resp.status, problem = %what, "invalid response; answering 500");
    qwen_http::error(500, "internal", "the server built an invalid response")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(headers: &[(&str, &str)]) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: b"page".to_vec(),
        }
    }

    #[test]
    fn a_valid_answer_keeps_every_header() {
        let ok = answer(&[
            ("set-cookie", "a=1; Path=/; HttpOnly"),
            ("set-cookie", "b=2; Path=/"),
            ("location", "/console/fleet"),
        ]);
        assert_eq!(checked(ok.clone()), ok);
    }

    #[test]
    fn an_invalid_header_or_status_is_a_500() {
        for bad in [
            answer(&[("set-cookie", "a=1"), ("x-bad", "line\r\nbreak")]),
            answer(&[("bad name", "1")]),
            answer(&[("", "1")]),
            answer(&[("content-disposition", "attachment; filename=\"фото.png\"")]),
            HttpResponse {
                status: 42,
                ..answer(&[])
            },
        ] {
            let out = checked(bad.clone());
            assert_eq!(out.status, 500, "{bad:?}");
            assert!(out.header("set-cookie").is_none());
            assert!(String::from_utf8_lossy(&out.body).contains("internal"));
        }
    }
}
