//! The playground in a real browser (headless Debian Chromium over WebDriver): the chat page
//! from /start to an edited photo, an edited album and a card top-up, the bad inputs a user
//! can send, and a sign-in to the operator console with what the chat page shows.
//! Skips without Chromium/chromedriver or Spin, unless `CI` is set (then it fails).
//!
//! Screenshots land in `target/playground-screenshots/`; with `UPDATE_SCREENSHOTS=1` the
//! README's pictures (`docs/images/playground-chat.png`, `docs/images/playground-console.png`)
//! are written too.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{PlaygroundProcess, screenshot_dir};
use fantoccini::{Client, Locator};
use playground::editor::{self, Operation};
use serde_json::Value;
use testkit::browser::{Driver, chromium_or_skip};

const JOHN: i64 = 700_003;
const ANNA: i64 = 700_002;
const WAIT: Duration = Duration::from_secs(60);

/// The texts of the messages shown in the pane, `message_id|text` each.
async fn texts(c: &Client) -> Vec<String> {
    let v = c
        .execute(
            "return Array.from(document.querySelectorAll('.pane .msg')).map(m => (m.dataset.id || '') + '|' + m.innerText)",
            vec![],
        )
        .await
        .expect("read messages");
    serde_json::from_value(v).unwrap_or_default()
}

/// Waits until a message contains `needle`; returns every text seen meanwhile.
async fn wait_text(c: &Client, needle: &str) -> Vec<String> {
    let end = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        let now = texts(c).await;
        for t in &now {
            if !seen.contains(t) {
                seen.push(t.clone());
            }
        }
        if now.iter().any(|t| t.contains(needle)) {
            return seen;
        }
        assert!(
            Instant::now() < end,
            "no message with {needle:?}; shown: {now:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many messages contain `needle`.
async fn count(c: &Client, needle: &str) -> usize {
    texts(c).await.iter().filter(|t| t.contains(needle)).count()
}

/// The newest inline button whose text contains `label`.
async fn newest_button(c: &Client, label: &str) -> fantoccini::elements::Element {
    let xpath = format!("(//div[@class='kb']//button[contains(., '{label}')])[last()]");
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|e| panic!("no button {label:?}: {e}"))
}

/// Clicks the newest inline button whose text contains `label`.
async fn press(c: &Client, label: &str) {
    newest_button(c, label).await.click().await.expect("click");
}

/// Two clicks in a row on the newest button with `label`, as a hurried user makes them.
async fn double_click(c: &Client, label: &str) {
    let b = newest_button(c, label).await;
    b.click().await.expect("first click");
    b.click().await.expect("second click");
}

async fn say(c: &Client, text: &str) {
    let input = c
        .find(Locator::Css(".pane input.text"))
        .await
        .expect("input");
    input.send_keys(text).await.expect("type");
    c.find(Locator::Css(".pane button.send"))
        .await
        .expect("send")
        .click()
        .await
        .expect("click send");
}

async fn attach(c: &Client, file: &Path) {
    let input = c
        .find(Locator::Css(".pane input.file"))
        .await
        .expect("file input");
    input
        .send_keys(&file.display().to_string())
        .await
        .expect("pick file");
}

async fn screenshot(c: &Client, name: &str) -> Vec<u8> {
    let bottom =
        "document.querySelectorAll('.messages').forEach(m => m.scrollTop = m.scrollHeight)";
    c.execute(bottom, vec![]).await.expect("scroll");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let png = c.screenshot().await.expect("screenshot");
    let path = screenshot_dir().join(name);
    std::fs::write(&path, &png).expect("write screenshot");
    eprintln!("screenshot: {}", path.display());
    png
}

/// `img` as a PNG compressed as far as the encoder goes.
fn small_png(img: &image::DynamicImage) -> Vec<u8> {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let mut png = Vec::new();
    let encoder =
        PngEncoder::new_with_quality(&mut png, CompressionType::Best, FilterType::Adaptive);
    img.to_rgb8()
        .write_with_encoder(encoder)
        .expect("encode the README picture");
    png
}

/// A screenshot of the README (`docs/images/<name>`), `width` pixels wide, taken at a
/// `window` size and written under `target/` always and into `docs/images/` only with
/// `UPDATE_SCREENSHOTS=1` (so a test run leaves the tree as it was).
async fn readme_picture(c: &Client, name: &str, window: (u32, u32), width: u32) {
    c.set_window_size(window.0, window.1)
        .await
        .expect("resize window");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let png = screenshot(c, name).await;
    c.set_window_size(1400, 1100).await.expect("resize back");
    let img = image::load_from_memory(&png).expect("decode screenshot");
    let img = img.resize(width, u32::MAX, image::imageops::FilterType::Lanczos3);
    let path = screenshot_dir().join(format!("readme-{name}"));
    std::fs::write(&path, small_png(&img)).expect("write the README picture");
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
        let docs = testkit::spin::workspace_root()
            .join("docs/images")
            .join(name);
        std::fs::copy(&path, &docs).expect("update docs/images");
        eprintln!("updated {}", docs.display());
    }
}

/// A colourful 240×180 picture.
fn input_png(dir: &Path) -> (std::path::PathBuf, image::RgbImage) {
    let img = image::RgbImage::from_fn(240, 180, |x, y| {
        let on = (x / 30 + y / 30) % 2 == 0;
        image::Rgb([(x + 10) as u8, if on { 200 } else { 40 }, (y + 60) as u8])
    });
    let path = dir.join("photo.png");
    img.save(&path).expect("save input");
    (path, img)
}

/// The last photo the bot sent, decoded.
async fn last_bot_photo(c: &Client, page: &str) -> image::RgbImage {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(".pane .msg.bot img"))
        .await
        .expect("a photo from the bot");
    let all = c
        .find_all(Locator::Css(".pane .msg.bot img"))
        .await
        .expect("the bot's photos");
    let img = all.last().expect("a photo from the bot");
    let src = img.attr("src").await.expect("src").expect("has src");
    let url = format!("{}{}", page.trim_end_matches('/'), src);
    let bytes = reqwest::get(&url)
        .await
        .expect("get photo")
        .bytes()
        .await
        .expect("bytes");
    image::load_from_memory(&bytes)
        .expect("decode the edited photo")
        .to_rgb8()
}

fn mean_difference(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    let b = image::imageops::resize(
        b,
        a.width(),
        a.height(),
        image::imageops::FilterType::Nearest,
    );
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.as_raw().len() as f64
}

async fn edit_a_photo(c: &Client, pg: &PlaygroundProcess, dir: &Path) {
    c.goto(&format!("{}?users={JOHN}", pg.url))
        .await
        .expect("open page");
    say(c, "/start").await;
    wait_text(c, "Hi, John").await;
    press(c, "Presets").await;
    press(c, "Styles").await;
    press(c, "Pencil sketch").await;
    wait_text(c, "Send a photo").await;
    let (photo, original) = input_png(dir);
    attach(c, &photo).await;
    wait_text(c, "received").await;
    press(c, "Start").await;
    let seen = wait_text(c, "Done").await;
    let progress: Vec<&String> = seen.iter().filter(|t| t.contains('%')).collect();
    let ids: std::collections::HashSet<&str> = progress
        .iter()
        .filter_map(|t| t.split('|').next())
        .collect();
    assert!(
        progress.len() >= 2,
        "the progress message changed: {seen:#?}"
    );
    assert_eq!(ids.len(), 1, "edited in place, one message: {progress:#?}");
    let edited = last_bot_photo(c, &pg.url).await;
    let diff = mean_difference(&original, &edited);
    assert!(
        diff > 20.0,
        "the edited photo differs from the input (mean diff {diff})"
    );
    screenshot(c, "edited-photo.png").await;
}

/// Once the edit is delivered, the gpu-host deletes its input and output from the stand-in
/// ComfyUI's directories.
async fn no_photo_kept(files: &Path) {
    let list = |d: &Path| -> Vec<String> {
        std::fs::read_dir(d)
            .map(|r| {
                r.flatten()
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    let (input, outputs) = (files.join("input"), files.join("output/qwen_edit"));
    let end = Instant::now() + Duration::from_secs(10);
    while !(list(&input).is_empty() && list(&outputs).is_empty()) {
        assert!(
            Instant::now() < end,
            "photos kept: {:?} {:?}",
            list(&input),
            list(&outputs)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        input.is_dir(),
        "the stand-in ComfyUI kept its files in {files:?}"
    );
}

async fn top_up_by_card(c: &Client, pg: &PlaygroundProcess) {
    say(c, "/menu").await;
    press(c, "Top up").await;
    press(c, "Bank card").await;
    press(c, "100 ₽").await;
    let link = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(
            "(//div[@class='kb']//a[contains(., 'Pay')])[last()]",
        ))
        .await
        .expect("Pay link");
    let href = link.attr("href").await.expect("href").expect("has href");
    assert!(
        href.starts_with(&pg.url),
        "the Pay link opens the playground checkout: {href}"
    );
    c.goto(&href).await.expect("open checkout");
    let amount = c
        .find(Locator::Id("amount"))
        .await
        .expect("amount")
        .text()
        .await
        .expect("text");
    assert!(
        amount.contains("100"),
        "checkout shows the amount: {amount}"
    );
    screenshot(c, "checkout.png").await;
    c.find(Locator::Id("pay"))
        .await
        .expect("pay")
        .click()
        .await
        .expect("click pay");
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("back"))
        .await
        .expect("payment done");
    c.goto(&format!("{}?users={JOHN}", pg.url))
        .await
        .expect("back to chat");
    wait_text(c, "Balance topped up").await;
}

/// A Stars invoice in the chat: Pay runs pre_checkout_query, then successful_payment.
async fn top_up_with_stars(c: &Client) {
    say(c, "/menu").await;
    press(c, "Top up").await;
    press(c, "Telegram Stars").await;
    press(c, "100 ⭐").await;
    let pay = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(".pane .pay-stars"))
        .await
        .expect("the invoice's Pay button");
    pay.click().await.expect("pay");
    wait_text(c, "You paid 100").await;
    let end = Instant::now() + WAIT;
    while count(c, "Balance topped up").await < 2 {
        assert!(
            Instant::now() < end,
            "no second top-up message: {:#?}",
            texts(c).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(c, "topped-up.png").await;
}

/// A 240×180 landscape: a sky fading to the horizon, a sun, a green hill.
fn landscape(x: u32, y: u32) -> image::Rgb<u8> {
    let (fx, fy) = (x as f32, y as f32);
    let hill = 120.0 + 25.0 * (fx / 40.0).sin();
    let sun = (fx - 170.0).powi(2) + (fy - 50.0).powi(2) < 22.0 * 22.0;
    let rgb = if fy > hill {
        [60, (150.0 + (fy - hill) * 0.8) as u8, 70]
    } else if sun {
        [250, 210, 60]
    } else {
        [(90.0 + fy) as u8, (150.0 + fy * 0.5) as u8, 235]
    };
    image::Rgb(rgb)
}

/// Three different pictures for an album: a landscape, a red one and a blue one.
fn album_pngs(dir: &Path) -> Vec<(std::path::PathBuf, image::RgbImage)> {
    let save = |name: &str, img: image::RgbImage| {
        let p = dir.join(name);
        img.save(&p).expect("save album picture");
        (p, img)
    };
    let plain = |rgb: [u8; 3]| image::RgbImage::from_pixel(200, 150, image::Rgb(rgb));
    vec![
        save("album1.png", image::RgbImage::from_fn(240, 180, landscape)),
        save("album2.png", plain([220, 40, 40])),
        save("album3.png", plain([40, 60, 220])),
    ]
}

/// What the stand-in makes of `inputs` with `op`, decoded.
fn stand_in_edit(inputs: &[&image::RgbImage], op: Operation) -> image::RgbImage {
    let pngs: Vec<Vec<u8>> = inputs
        .iter()
        .map(|img| {
            let mut png = Vec::new();
            img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .expect("encode");
            png
        })
        .collect();
    let out = editor::edit_all(&pngs, op).expect("edit");
    image::load_from_memory(&out).expect("decode").to_rgb8()
}

/// How many photos the bot has sent in the pane.
async fn bot_photos(c: &Client) -> usize {
    c.find_all(Locator::Css(".pane .msg.bot img"))
        .await
        .map_or(0, |v| v.len())
}

/// Three files picked at once arrive as one album; Start edits it, and the photo that comes
/// back is the first picture with the other two laid in (the stand-in's album edit).
async fn edit_an_album(c: &Client, pg: &PlaygroundProcess, dir: &Path) {
    say(c, "/menu").await;
    press(c, "Presets").await;
    press(c, "Styles").await;
    press(c, "Anime").await;
    wait_text(c, "Send a photo").await;
    let album = album_pngs(dir);
    let files: Vec<String> = album.iter().map(|(p, _)| p.display().to_string()).collect();
    let input = c
        .find(Locator::Css(".pane input.file"))
        .await
        .expect("file input");
    input
        .send_keys(&files.join("\n"))
        .await
        .expect("pick files");
    wait_text(c, "Album received").await;
    let end = Instant::now() + WAIT;
    loop {
        let photos = c
            .find_all(Locator::Css(".pane .album-grid img"))
            .await
            .expect("album");
        if photos.len() == 3 {
            break;
        }
        assert!(
            Instant::now() < end,
            "one bubble with three photos, got {}",
            photos.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(c, "album.png").await;
    let (before, done) = (bot_photos(c).await, count(c, "Done").await);
    press(c, "Start").await;
    let end = Instant::now() + WAIT;
    while bot_photos(c).await <= before || count(c, "Done").await <= done {
        assert!(
            Instant::now() < end,
            "the album's edit never arrived: {:#?}",
            texts(c).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let edited = last_bot_photo(c, &pg.url).await;
    let [(_, a), (_, b), (_, c3)] = &album[..] else {
        unreachable!("three pictures")
    };
    let alone = mean_difference(&edited, &stand_in_edit(&[a], Operation::Posterize));
    let together = [[a, b, c3], [a, c3, b]]
        .iter()
        .map(|order| mean_difference(&edited, &stand_in_edit(order, Operation::Posterize)))
        .fold(f64::MAX, f64::min);
    assert!(
        together < 2.0 && alone > 5.0,
        "the result is the first photo with the other two laid in (diff {together}), not \
         the first photo alone (diff {alone})"
    );
    screenshot(c, "album-edited.png").await;
    readme_picture(c, "playground-chat.png", (1000, 1040), 840).await;
}

/// Anna (ru): a non-image file, a 25 MB picture, a 501-character prompt, a double click.
async fn bad_inputs(c: &Client, pg: &PlaygroundProcess, dir: &Path) {
    c.goto(&format!("{}?users={ANNA}", pg.url))
        .await
        .expect("open page");
    say(c, "/start").await;
    wait_text(c, "Привет").await;
    double_click(c, "Пресеты").await;
    wait_text(c, "Выберите категорию").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        count(c, "Выберите категорию").await,
        1,
        "a double click edits once"
    );
    press(c, "Стили").await;
    press(c, "Аниме").await;
    let txt = dir.join("notes.txt");
    std::fs::write(&txt, "not a picture").expect("write txt");
    attach(c, &txt).await;
    wait_text(c, "не изображение").await;
    let big = dir.join("big.png");
    let (small, _) = input_png(dir);
    let mut bytes = std::fs::read(small).expect("png");
    bytes.resize(25 * 1024 * 1024, 0);
    std::fs::write(&big, bytes).expect("write big");
    attach(c, &big).await;
    wait_text(c, "получено").await;
    press(c, "Начать").await;
    wait_text(c, "20 МБ").await;
    say(c, "/menu").await;
    press(c, "Свой промпт").await;
    wait_text(c, "Свой промпт —").await;
    attach(c, &dir.join("photo.png")).await;
    wait_text(c, "Напишите").await;
    say(c, &"я".repeat(501)).await;
    wait_text(c, "в вашем 501").await;
    screenshot(c, "bad-inputs.png").await;
}

/// The default page: the admin and a customer side by side, the admin's command menu open.
async fn side_by_side(c: &Client, pg: &PlaygroundProcess) {
    c.goto(&pg.url).await.expect("open page");
    let panes = c.find_all(Locator::Css(".pane")).await.expect("panes");
    assert_eq!(panes.len(), 2, "admin and customer side by side");
    let menu = panes[0]
        .find(Locator::Css(".menu"))
        .await
        .expect("menu button");
    tokio::time::sleep(Duration::from_secs(1)).await;
    menu.click().await.expect("open the command menu");
    let cmds = panes[0]
        .find_all(Locator::Css(".commands .cmd"))
        .await
        .expect("commands");
    assert!(cmds.len() >= 5, "the command menu lists the bot's commands");
    screenshot(c, "side-by-side.png").await;
}

/// The chat page says where the operator console is and how to sign in; signing in with
/// that opens the console's fleet page, which shows the playground's gpu-host.
async fn console_sign_in(c: &Client, pg: &PlaygroundProcess) {
    c.goto(&pg.url).await.expect("open page");
    let link = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#console a"))
        .await
        .expect("the console link");
    let href = link.attr("href").await.expect("href").expect("has href");
    assert!(href.starts_with(&pg.edge), "the edge's console: {href}");
    let shown = |id: &'static str| async move {
        let el = c.find(Locator::Id(id)).await.expect(id);
        el.text().await.expect("text")
    };
    let (name, password) = (shown("console-name").await, shown("console-password").await);
    assert!(
        name == "operator" && password.len() >= 12 && pg.stdout().contains(&password),
        "the page and the log give the operator and a password: {name:?} {password:?}"
    );
    c.goto(&href).await.expect("open the console");
    wait_url(c, "/console/login").await;
    fill(c, "input[name=name]", &name).await;
    fill(c, "input[name=password]", &password).await;
    c.find(Locator::Css("form.login button"))
        .await
        .expect("sign-in button")
        .click()
        .await
        .expect("sign in");
    wait_url(c, "/console/fleet").await;
    let end = Instant::now() + WAIT;
    loop {
        let body = c
            .find(Locator::Css("body"))
            .await
            .expect("body")
            .text()
            .await
            .unwrap_or_default();
        if body.contains("playground-gpu") {
            break;
        }
        assert!(
            Instant::now() < end,
            "the fleet page lists the gpu-host: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    screenshot(c, "console.png").await;
    c.find(Locator::Css("nav a.lang"))
        .await
        .expect("the language switch")
        .click()
        .await
        .expect("switch to English");
    let end = Instant::now() + WAIT;
    while !c
        .find(Locator::Css("nav"))
        .await
        .expect("nav")
        .text()
        .await
        .is_ok_and(|t| t.contains("Queue and hosts"))
    {
        assert!(Instant::now() < end, "the console speaks English");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    readme_picture(c, "playground-console.png", (1200, 760), 760).await;
}

async fn fill(c: &Client, css: &str, value: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .send_keys(value)
        .await
        .expect("type");
}

async fn wait_url(c: &Client, part: &str) {
    let end = Instant::now() + WAIT;
    while !c
        .current_url()
        .await
        .is_ok_and(|u| u.as_str().contains(part))
    {
        assert!(Instant::now() < end, "never reached a URL with {part}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_page_edits_a_photo_tops_up_and_survives_bad_input() {
    let what = "the playground browser test";
    let Some(_) = testkit::spin::spin_or_skip(what) else {
        return;
    };
    let Some((chromium, chromedriver)) = chromium_or_skip(what) else {
        return;
    };
    let dir = tempfile_dir();
    let files = dir.join("comfyui");
    let files_arg = files.display().to_string();
    let args = [
        "--edit-ms",
        "2500",
        "--edit-steps",
        "5",
        "--comfy-files",
        &files_arg,
        "--retention-secs",
        "0",
    ];
    let mut pg = PlaygroundProcess::start(&args, &dir);
    let driver = Driver::start(&chromedriver);
    let c = driver.session(&chromium).await;
    edit_a_photo(&c, &pg, &dir).await;
    no_photo_kept(&files).await;
    top_up_by_card(&c, &pg).await;
    top_up_with_stars(&c).await;
    edit_an_album(&c, &pg, &dir).await;
    bad_inputs(&c, &pg, &dir).await;
    let info: Value = reqwest::get(format!("{}api/info", pg.url))
        .await
        .expect("still answers")
        .json()
        .await
        .expect("json");
    assert!(
        info["banner"].as_str().unwrap_or("").contains("STAND-IN"),
        "{info}"
    );
    side_by_side(&c, &pg).await;
    console_sign_in(&c, &pg).await;
    let _ = c.close().await;
    assert!(
        pg.interrupt(Duration::from_secs(30)).is_some(),
        "{}",
        pg.log()
    );
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("playground-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("test dir");
    dir
}
