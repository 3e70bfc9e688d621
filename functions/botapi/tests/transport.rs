//! The client over a scripted in-memory `HttpClient`: URLs, bodies, and redaction of a
//! transport that puts the URL (with the token) in its errors.

use std::cell::RefCell;

use async_trait::async_trait;
use botapi::{BotApi, BotApiError, EditMessageText, Edited, InputFile, SendPhoto};
use qwen_ports::{HttpClient, HttpError, HttpRequest, HttpResponse};

const TOKEN: &str = "424242:AAE-very-secret-token";

/// Answers each request with the next scripted result and remembers the requests.
#[derive(Default)]
struct Scripted {
    answers: RefCell<Vec<Result<HttpResponse, HttpError>>>,
    seen: RefCell<Vec<HttpRequest>>,
}

impl Scripted {
    fn answer(&self, status: u16, body: &str) {
        self.answers.borrow_mut().push(Ok(HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }));
    }
}

#[async_trait(?Send)]
impl HttpClient for Scripted {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let url = req.url.clone();
        self.seen.borrow_mut().push(req);
        let mut answers = self.answers.borrow_mut();
        if answers.is_empty() {
            return Err(HttpError::Connect(format!("cannot reach {url}")));
        }
        answers.remove(0)
    }
}

#[tokio::test]
async fn builds_method_and_file_urls() {
    let http = Scripted::default();
    let api = BotApi::new("http://127.0.0.1:9/", TOKEN, &http).with_timeout_ms(1234);
    http.answer(
        200,
        r#"{"ok":true,"result":{"id":424242,"is_bot":true,"first_name":"Q"}}"#,
    );
    api.get_me().await.unwrap();
    http.answer(200, "raw-bytes");
    api.download_file("photos/file_1.jpg", 100).await.unwrap();
    let seen = http.seen.borrow();
    assert_eq!(seen[0].url, format!("http://127.0.0.1:9/bot{TOKEN}/getMe"));
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].timeout_ms, 1234);
    assert_eq!(
        seen[1].url,
        format!("http://127.0.0.1:9/file/bot{TOKEN}/photos/file_1.jpg")
    );
    assert_eq!(seen[1].method, "GET");
}

#[tokio::test]
async fn transport_errors_are_redacted() {
    let http = Scripted::default();
    let api = BotApi::new("http://127.0.0.1:9", TOKEN, &http);
    let err = api.get_me().await.unwrap_err();
    assert!(matches!(err, BotApiError::Transport(HttpError::Connect(_))));
    for text in [format!("{err}"), format!("{err:?}"), format!("{api:?}")] {
        assert!(!text.contains(TOKEN), "{text}");
        assert!(!text.contains("secret"), "{text}");
    }
    assert!(format!("{err}").contains("/bot4242…/getMe"));
}

#[tokio::test]
async fn ok_false_with_200_and_inline_edit() {
    let http = Scripted::default();
    let api = BotApi::new("http://x", TOKEN, &http);
    http.answer(
        200,
        r#"{"ok":false,"error_code":403,"description":"Forbidden: user is deactivated"}"#,
    );
    let e = api.get_me().await.unwrap_err();
    assert!(e.is_forbidden());
    http.answer(200, r#"{"ok":true,"result":true}"#);
    let edit = EditMessageText::new(1, 2, "x");
    assert_eq!(api.edit_message_text(&edit).await.unwrap(), Edited::Done);
    http.answer(200, "<html>not json</html>");
    assert!(matches!(
        api.get_me().await.unwrap_err(),
        BotApiError::Decode(_)
    ));
}

#[tokio::test]
async fn upload_is_multipart_with_json_fields() {
    let http = Scripted::default();
    let api = BotApi::new("http://x", TOKEN, &http);
    http.answer(
        200,
        r#"{"ok":true,"result":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"}}}"#,
    );
    let req = SendPhoto::new(5, InputFile::upload("out.png", "image/png", vec![0, 1, 2]))
        .caption("c")
        .reply_to(9);
    api.send_photo(&req).await.unwrap();
    let seen = http.seen.borrow();
    let ct = &seen[0].headers[0].1;
    assert!(ct.starts_with("multipart/form-data; boundary="));
    let body = String::from_utf8_lossy(&seen[0].body);
    assert!(body.contains("name=\"chat_id\"\r\n\r\n5\r\n"));
    let reply = body
        .split("name=\"reply_parameters\"\r\n\r\n")
        .nth(1)
        .unwrap();
    let reply: serde_json::Value =
        serde_json::from_str(reply.split("\r\n").next().unwrap()).unwrap();
    assert_eq!(
        reply,
        serde_json::json!({"message_id": 9, "allow_sending_without_reply": true})
    );
    assert!(
        body.contains("name=\"photo\"; filename=\"out.png\"\r\nContent-Type: image/png\r\n\r\n")
    );
}
