//! A small multipart/form-data encoder (RFC 7578), enough for Bot API uploads.

/// One file part of a form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FilePart<'a> {
    /// Form field name (`photo`, `document`).
    pub field: &'a str,
    /// File name sent in `Content-Disposition`.
    pub filename: &'a str,
    /// MIME type of the part.
    pub content_type: &'a str,
    /// Content.
    pub bytes: &'a [u8],
}

/// An encoded form: the body and its `Content-Type` header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Encoded {
    /// `multipart/form-data; boundary=…`.
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
}

/// Encodes text `fields` and one `file` into a multipart/form-data body.
///
/// The boundary is derived from the content and checked not to occur in any part.
pub(crate) fn encode(fields: &[(String, String)], file: FilePart<'_>) -> Encoded {
    let boundary = pick_boundary(fields, file.bytes);
    let mut body = Vec::with_capacity(file.bytes.len() + 256 * (fields.len() + 1));
    for (name, value) in fields {
        part_header(&mut body, &boundary, name, None, None);
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    part_header(
        &mut body,
        &boundary,
        file.field,
        Some(file.filename),
        Some(file.content_type),
    );
    body.extend_from_slice(file.bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Encoded {
        content_type: format!("multipart/form-data; boundary={boundary}"),
        body,
    }
}

fn part_header(
    body: &mut Vec<u8>,
    boundary: &str,
    name: &str,
    filename: Option<&str>,
    content_type: Option<&str>,
) {
    let mut head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"",
        quote(name)
    );
    if let Some(f) = filename {
        head.push_str(&format!("; filename=\"{}\"", quote(f)));
    }
    head.push_str("\r\n");
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {}\r\n", strip_controls(ct)));
    }
    head.push_str("\r\n");
    body.extend_from_slice(head.as_bytes());
}

/// Escapes a quoted-string parameter the way browsers do (`"` → `%22`, CR/LF → `%0D`/`%0A`).
fn quote(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn strip_controls(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

/// A boundary that occurs in no field and not in the file.
fn pick_boundary(fields: &[(String, String)], bytes: &[u8]) -> String {
    let mut seed = fnv1a(bytes) ^ fnv1a(format!("{fields:?}").as_bytes());
    loop {
        let candidate = format!("----botapi{seed:016x}");
        let needle = candidate.as_bytes();
        let clash = contains(bytes, needle)
            || fields
                .iter()
                .any(|(k, v)| k.contains(&candidate) || v.contains(&candidate));
        if !clash {
            return candidate;
        }
        seed = seed.wrapping_mul(0x0100_0000_01b3).wrapping_add(1);
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_fields_and_file() {
        let fields = vec![("chat_id".to_owned(), "42".to_owned())];
        let file = FilePart {
            field: "photo",
            filename: "a\"b.png",
            content_type: "image/png",
            bytes: b"\x89PNG\r\n",
        };
        let enc = encode(&fields, file);
        let boundary = enc
            .content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap_or_default()
            .to_owned();
        let text = String::from_utf8_lossy(&enc.body);
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.contains("name=\"chat_id\"\r\n\r\n42\r\n"));
        assert!(text.contains("name=\"photo\"; filename=\"a%22b.png\"\r\nContent-Type: image/png"));
        assert!(text.ends_with(&format!("\r\n--{boundary}--\r\n")));
    }

    #[test]
    fn boundary_avoids_content() {
        let first = pick_boundary(&[], b"x");
        let evil = format!("x{first}y");
        let second = pick_boundary(&[], evil.as_bytes());
        assert!(!evil.contains(&second));
    }
}
