//! The operator console's sign-in and session rules on the native loopback server (the same
//! `console::handle` the `api` component runs): cookies that are expired, forged or signed
//! with another key are refused, every POST needs the session's CSRF token and this site's
//! origin, wrong passwords are slowed down and refused, and no page shows a secret.

use console::password::PasswordHash;
use console::{ConsoleSettings, Operator};
use qwen_core::payments::Deps;
use qwen_core::payments::stars::{self, StarsPayment};
use testkit::fixture::{API_TOKEN, EVENT_SECRET};
use testkit::payments::{PayFixture, ReqwestHttp};
use testkit::sql::SqliteSql;

const NAME: &str = "anna";
const PASSWORD: &str = "correct horse battery staple";
const KEY: &str = "console-session-key-for-tests-0123456789";

fn console_settings() -> ConsoleSettings {
    ConsoleSettings {
        operators: vec![Operator {
            name: NAME.into(),
            hash: PasswordHash::new(PASSWORD, b"salt-for-tests-16", 1_000),
        }],
        session_key: KEY.into(),
        session_ms: 60 * 60_000,
        client_ip_header: "spin-client-addr".into(),
    }
}

struct Console {
    f: PayFixture,
    http: reqwest::Client,
}

struct Answer {
    status: u16,
    cookies: Vec<String>,
    location: String,
    body: String,
}

impl Console {
    async fn start(name: &str) -> Console {
        Console::start_with(name, console_settings()).await
    }

    async fn start_with(name: &str, settings: ConsoleSettings) -> Console {
        let f = PayFixture::start_with_console(name, |_| {}, settings).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Console { f, http }
    }

    fn origin(&self) -> String {
        self.f.server.url()
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        let resp = req.send().await.expect("console answers");
        let header = |n: &str| {
            resp.headers()
                .get_all(n)
                .iter()
                .map(|v| v.to_str().unwrap_or("").to_owned())
                .collect::<Vec<_>>()
        };
        let (cookies, location) = (header("set-cookie"), header("location").concat());
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        Answer {
            status,
            cookies,
            location,
            body,
        }
    }

    async fn get(&self, path: &str, cookie: &str) -> Answer {
        let url = format!("{}{path}", self.f.server.url());
        self.send(self.http.get(url).header("cookie", cookie)).await
    }

    async fn post(
        &self,
        path: &str,
        cookie: &str,
        origin: Option<&str>,
        form: &[(&str, &str)],
    ) -> Answer {
        let url = format!("{}{path}", self.f.server.url());
        let mut req = self.http.post(url).header("cookie", cookie).form(form);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        self.send(req).await
    }

    async fn sign_in_as(&self, name: &str, password: &str) -> Answer {
        let origin = self.origin();
        self.post(
            "/console/login",
            "",
            Some(&origin),
            &[("name", name), ("password", password)],
        )
        .await
    }

    /// A sign-in try with extra request headers (the client's address).
    async fn sign_in_from(&self, name: &str, password: &str, headers: &[(&str, &str)]) -> Answer {
        let mut req = self
            .http
            .post(format!("{}/console/login", self.origin()))
            .header("origin", self.origin())
            .form(&[("name", name), ("password", password)]);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    /// Signs in; returns the `Cookie` header value.
    async fn sign_in(&self) -> String {
        let a = self.sign_in_as(NAME, PASSWORD).await;
        assert_eq!(
            (a.status, a.location.as_str()),
            (303, "/console/fleet"),
            "{}",
            a.body
        );
        let set = a.cookies.first().cloned().unwrap_or_default();
        set.split(';').next().unwrap_or("").to_owned()
    }

    async fn csrf(&self, cookie: &str, page: &str) -> String {
        let body = self.get(page, cookie).await.body;
        let at = body.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        body[at..].split('"').next().unwrap_or("").to_owned()
    }
}

#[tokio::test]
async fn sign_in_sets_a_strict_http_only_cookie_and_pages_need_it() {
    let c = Console::start("console_cookie").await;
    let anon = c.get("/console/fleet", "").await;
    assert_eq!(
        (anon.status, anon.location.as_str()),
        (303, "/console/login")
    );
    let a = c.sign_in_as(NAME, PASSWORD).await;
    let set = a.cookies.first().cloned().unwrap_or_default();
    for part in [
        "qc_session=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=3600",
    ] {
        assert!(set.contains(part), "{part} in {set}");
    }
    assert!(!set.contains("Secure"), "plain http: no Secure flag: {set}");
    let cookie = set.split(';').next().unwrap_or("").to_owned();
    let page = c.get("/console/fleet", &cookie).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Очередь") && page.body.contains(NAME));
    assert!(
        page.body.contains("id=\"stream\"") && page.body.contains("В потоке: не прочитано"),
        "the stream's backlog is on the fleet page"
    );
    let https = c
        .send(
            c.http
                .post(format!("{}/console/login", c.origin()))
                .header("origin", c.origin())
                .header("x-forwarded-proto", "https")
                .form(&[("name", NAME), ("password", PASSWORD)]),
        )
        .await;
    assert!(
        https.cookies.concat().contains("; Secure"),
        "{:?}",
        https.cookies
    );
}

#[tokio::test]
async fn expired_forged_and_foreign_cookies_are_refused() {
    let c = Console::start("console_forged").await;
    let cookie = c.sign_in().await;
    assert_eq!(c.get("/console/users", &cookie).await.status, 200);
    let value = cookie.trim_start_matches("qc_session=");
    let (payload, sig) = value.rsplit_once('.').expect("signed");
    let mut parts: Vec<String> = payload.split('.').map(str::to_owned).collect();
    parts[1] = (parts[1].parse::<i64>().expect("expiry") + 86_400_000).to_string();
    let longer = format!("qc_session={}.{sig}", parts.join("."));
    let other = format!(
        "qc_session=bob.{}.{sig}",
        payload.split_once('.').map_or("", |p| p.1)
    );
    let mut other_key = console_settings();
    other_key.session_key = "another-key-another-key-another-key-0".into();
    let foreign = console::session::issue(&other_key, &other_key.operators[0], 0, 0);
    for bad in [
        longer,
        other,
        format!("qc_session={}", foreign.value),
        "qc_session=junk".into(),
    ] {
        let a = c.get("/console/users", &bad).await;
        assert_eq!(
            (a.status, a.location.as_str()),
            (303, "/console/login"),
            "{bad}"
        );
    }
    c.f.clock.advance(60 * 60_000 + 1);
    let expired = c.get("/console/users", &cookie).await;
    assert_eq!(
        (expired.status, expired.location.as_str()),
        (303, "/console/login")
    );
}

#[tokio::test]
async fn posts_need_the_csrf_token_and_this_origin() {
    let c = Console::start("console_csrf").await;
    c.f.register(9101).await;
    let cookie = c.sign_in().await;
    let page = "/console/users/9101";
    let token = c.csrf(&cookie, page).await;
    let origin = c.origin();
    let form = |csrf: &'static str| [("amount", "7"), ("reason", "goodwill"), ("csrf", csrf)];
    let token: &'static str = Box::leak(token.into_boxed_str());
    let action = "/console/users/9101/adjust";
    let refused = [
        c.post(action, &cookie, Some(&origin), &form("")[..2]).await,
        c.post(action, &cookie, Some(&origin), &form("0123abcd"))
            .await,
        c.post(action, &cookie, Some("http://evil.example"), &form(token))
            .await,
        c.post(action, &cookie, None, &form(token)).await,
        c.post(action, "", Some(&origin), &form(token)).await,
    ];
    for (i, a) in refused.iter().enumerate() {
        assert_eq!(a.status, 403, "case {i}: {}", a.body);
    }
    assert_eq!(c.f.balance(9101).await, 100, "nothing moved");
    let ok = c.post(action, &cookie, Some(&origin), &form(token)).await;
    assert_eq!(
        (ok.status, ok.location.as_str()),
        (303, "/console/users/9101?done=adjusted"),
        "{}",
        ok.body
    );
    assert_eq!(c.f.balance(9101).await, 107);
    let shown = c.get(page, &cookie).await.body;
    assert!(
        shown.contains("goodwill (by anna)"),
        "the ledger line names the operator"
    );
}

#[tokio::test]
async fn wrong_passwords_are_slowed_down_and_refused() {
    let c = Console::start("console_throttle").await;
    let wrong = c.sign_in_as(NAME, "not the password").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.cookies.is_empty());
    let soon = c.sign_in_as(NAME, PASSWORD).await;
    assert_eq!(
        soon.status, 429,
        "even the right password waits: {}",
        soon.body
    );
    c.f.clock.advance(1_100);
    assert_eq!(c.sign_in_as(NAME, "still wrong").await.status, 401);
    c.f.clock.advance(1_100);
    assert_eq!(
        c.sign_in_as(NAME, PASSWORD).await.status,
        429,
        "the second wait is 2 s"
    );
    c.f.clock.advance(1_000);
    assert_eq!(c.sign_in_as(NAME, PASSWORD).await.status, 303);
    assert_eq!(
        c.sign_in_as("nobody", PASSWORD).await.status,
        401,
        "unknown names too"
    );
    let origin = c.origin();
    let cross = c
        .post(
            "/console/login",
            "",
            Some("http://evil.example"),
            &[("name", NAME), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(cross.status, 403, "sign-in from another origin");
    let _ = origin;
}

async fn paid_stars_payment(c: &Console, user: i64) -> String {
    let (status, created) = c.f.create(user, "stars", 50).await;
    assert_eq!(status, 201, "{created}");
    let id = created["payment"]["id"].as_str().unwrap_or("").to_owned();
    let (sql, http) = (SqliteSql::open(&c.f.app.db), ReqwestHttp::new());
    let deps = Deps {
        sql: &sql,
        http: &http,
        clock: c.f.app.clock.as_ref(),
        settings: &c.f.app.settings,
        pay: &c.f.app.pay,
    };
    let q = StarsPayment {
        user_id: user,
        currency: "XTR",
        total_amount: 50,
        payload: &id,
    };
    assert!(
        stars::successful_payment(&deps, &q, "stxCONSOLE")
            .await
            .expect("credit")
    );
    id
}

#[tokio::test]
async fn no_page_shows_a_secret_and_refund_goes_through_telegram() {
    let c = Console::start("console_secrets").await;
    c.f.register(9201).await;
    let payment = paid_stars_payment(&c, 9201).await;
    let cookie = c.sign_in().await;
    let token = c.csrf(&cookie, "/console/payments").await;
    let origin = c.origin();
    let back = [("csrf", token.as_str()), ("back", "/console/payments")];
    let r = c
        .post(
            &format!("/console/payments/{payment}/refund"),
            &cookie,
            Some(&origin),
            &back,
        )
        .await;
    assert_eq!(
        (r.status, r.location.as_str()),
        (303, "/console/payments?done=refunded"),
        "{}",
        r.body
    );
    assert_eq!(c.f.tg.calls_of("refundStarPayment").len(), 1);
    let secrets = [
        API_TOKEN,
        EVENT_SECRET,
        KEY,
        c.f.app.pay.bot_token.as_str(),
        PASSWORD,
    ];
    let hash = console_settings().operators[0].hash.to_string();
    for page in [
        "/console/fleet",
        "/console/fleet/live",
        "/console/users?q=9201",
        "/console/users/9201",
        "/console/jobs",
        "/console/payments",
        "/console/reconciliations",
        "/console/login",
    ] {
        let a = c.get(page, &cookie).await;
        assert!(a.status == 200 || a.status == 303, "{page}: {}", a.status);
        for s in secrets.iter().chain([&hash.as_str()]) {
            assert!(!a.body.contains(s), "{page} shows a secret");
        }
    }
}

#[tokio::test]
async fn a_refund_left_refunding_is_completed_from_the_console() {
    let c = Console::start("console_refunding").await;
    c.f.register(9202).await;
    let payment = paid_stars_payment(&c, 9202).await;
    // An earlier refund reached Telegram, then failed before the take-back.
    let conn = rusqlite::Connection::open(&c.f.app.db).expect("db");
    conn.execute(
        "UPDATE payments SET status = 'refunding' WHERE id = ?1",
        [&payment],
    )
    .expect("refunding");
    let url = format!(
        "{}/bot{}/refundStarPayment",
        c.f.tg.base_url(),
        c.f.tg.token()
    );
    let body = serde_json::json!({"user_id": 9202, "telegram_payment_charge_id": "stxCONSOLE"});
    let refunded = reqwest::Client::new().post(url).json(&body).send().await;
    assert_eq!(refunded.map(|r| r.status().as_u16()).ok(), Some(200));
    let cookie = c.sign_in().await;
    let page = c.get("/console/payments", &cookie).await;
    assert!(
        page.body
            .contains(&format!("/console/payments/{payment}/refund")),
        "a refunding payment offers the refund again"
    );
    let token = c.csrf(&cookie, "/console/payments").await;
    let back = [("csrf", token.as_str()), ("back", "/console/payments")];
    let r = c
        .post(
            &format!("/console/payments/{payment}/refund"),
            &cookie,
            Some(&c.origin()),
            &back,
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(c.f.payment(&payment).await["status"], "refunded");
    assert_eq!(c.f.balance(9202).await, 100, "the credits are taken back");
    c.f.cleanup().await;
}

fn cookie_of(a: &Answer) -> String {
    let set = a.cookies.first().cloned().unwrap_or_default();
    set.split(';').next().unwrap_or("").to_owned()
}

fn throttle_rows(c: &Console) -> i64 {
    let db = rusqlite::Connection::open(&c.f.app.db).expect("db");
    db.query_row("SELECT COUNT(*) FROM console_throttle", [], |r| r.get(0))
        .expect("the throttle table")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_reach_the_password_check_once() {
    let mut settings = console_settings();
    settings.operators[0].hash = PasswordHash::new(PASSWORD, b"salt-for-tests-16", 20_000);
    let c = std::sync::Arc::new(Console::start_with("console_parallel", settings).await);
    let tries: Vec<_> = (0..12)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move {
                let addr = format!("10.9.0.{i}:5000");
                let header = [("spin-client-addr", addr.as_str())];
                c.sign_in_from(NAME, "a wrong guess", &header).await.status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tries {
        statuses.push(t.await.expect("try"));
    }
    statuses.sort_unstable();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(checked, 1, "one guess reached the hash: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn known_and_unknown_names_get_the_same_answers() {
    let mut settings = console_settings();
    settings.client_ip_header = "x-forwarded-for".into();
    let c = Console::start_with("console_names", settings).await;
    let from = |n: u8| format!("203.0.113.9, 10.0.0.{n}");
    let mut seen = Vec::new();
    for (name, ips) in [(NAME, [1u8, 2, 3]), ("nobody", [4, 5, 6])] {
        let mut answers = Vec::new();
        for ip in ips {
            let xff = from(ip);
            let a = c
                .sign_in_from(name, "wrong", &[("x-forwarded-for", xff.as_str())])
                .await;
            answers.push((a.status, a.body, a.cookies));
        }
        seen.push(answers);
    }
    assert_eq!(seen[0], seen[1], "a known name answers as an unknown one");
    let statuses: Vec<u16> = seen[0].iter().map(|a| a.0).collect();
    assert_eq!(
        statuses,
        [401, 429, 429],
        "the name waits, from any address"
    );
    // The address is the configured header's last entry: another name from a waiting
    // address waits too, from a fresh one it is checked.
    let waiting = c
        .sign_in_from("zoe", "wrong", &[("x-forwarded-for", &from(1))])
        .await;
    assert_eq!(waiting.status, 429);
    let fresh = c
        .sign_in_from("zoe", "wrong", &[("x-forwarded-for", &from(7))])
        .await;
    assert_eq!(fresh.status, 401);
}

#[tokio::test]
async fn a_signed_out_cookie_is_refused() {
    let c = Console::start("console_logout").await;
    let cookie = c.sign_in().await;
    let other_device = c.sign_in().await;
    assert_eq!(c.get("/console/fleet", &cookie).await.status, 200);
    let token = c.csrf(&cookie, "/console/fleet").await;
    let origin = c.origin();
    let out = c
        .post(
            "/console/logout",
            &cookie,
            Some(&origin),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!((out.status, out.location.as_str()), (303, "/console/login"));
    for old in [&cookie, &other_device] {
        let a = c.get("/console/fleet", old).await;
        assert_eq!((a.status, a.location.as_str()), (303, "/console/login"));
    }
    let again = c.sign_in().await;
    assert_eq!(c.get("/console/fleet", &again).await.status, 200);
}

#[tokio::test]
async fn a_dotted_name_signs_in_and_stays_signed_in() {
    let mut settings = console_settings();
    settings.operators[0].name = "anna.k".into();
    let c = Console::start_with("console_dotted", settings).await;
    let a = c.sign_in_as("anna.k", PASSWORD).await;
    assert_eq!((a.status, a.location.as_str()), (303, "/console/fleet"));
    let page = c.get("/console/fleet", &cookie_of(&a)).await;
    assert_eq!(page.status, 200, "{}", page.location);
    assert!(page.body.contains("anna.k"));
}

#[tokio::test]
async fn throttle_rows_expire() {
    let c = Console::start("console_expiry").await;
    for i in 0..3 {
        let addr = format!("10.1.0.{i}:1");
        c.sign_in_from(&format!("guess{i}"), "x", &[("spin-client-addr", &addr)])
            .await;
    }
    assert_eq!(throttle_rows(&c), 6, "an address and a name per try");
    c.f.clock.advance(console::throttle::FORGET_MS + 1);
    let a = c
        .sign_in_from("guess0", "x", &[("spin-client-addr", "10.1.0.9:1")])
        .await;
    assert_eq!(a.status, 401, "a forgotten name starts again");
    assert_eq!(throttle_rows(&c), 2, "forgotten rows are pruned");
}
