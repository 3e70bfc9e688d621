//! Headless Chromium over WebDriver for the console's browser test, as the playground's
//! browser tests drive it: skip without Chromium/chromedriver unless `CI` is set.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A program on `PATH`.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Chromium and chromedriver, or `None` after printing why the test skips.
///
/// # Panics
/// When either is missing and `CI` is set.
pub fn chromium_or_skip(what: &str) -> Option<(PathBuf, PathBuf)> {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|n| on_path(n));
    if let (Some(b), Some(d)) = (browser, on_path("chromedriver")) {
        return Some((b, d));
    }
    let msg = "Chromium and chromedriver are not on PATH: install them (Debian: \
               `apt-get install chromium chromium-driver`) to run the browser tests";
    if std::env::var_os("CI").is_some() {
        panic!("{what}: {msg} (CI is set, so this is a failure, not a skip)");
    }
    eprintln!("skipping {what}: {msg}");
    None
}

/// The processes below `pid`.
fn descendants(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let procs: Vec<(u32, u32)> = dir
        .flatten()
        .filter_map(|e| {
            let p: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((p, ppid))
        })
        .collect();
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            procs
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// A running chromedriver on a free port, killed (with the Chromium below it) when dropped.
pub struct Driver {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Driver {
    /// Starts chromedriver and waits until it listens.
    pub fn start(chromedriver: &Path) -> Driver {
        let port = testkit::spin::free_port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let end = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < end, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// A headless Chromium session.
    pub async fn session(&self, chromium: &Path) -> fantoccini::Client {
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--window-size=1400,1100"]
            }
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        fantoccini::ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("WebDriver session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        for pid in descendants(self.child.id()) {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `target/<dir>/`.
pub fn screenshot_dir(dir: &str) -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|t| t.join(dir))
        .unwrap_or_else(|| PathBuf::from(dir));
    std::fs::create_dir_all(&out).expect("screenshot dir");
    out
}
