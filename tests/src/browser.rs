//! Headless Chromium over WebDriver (`fantoccini` and Debian's `chromium` +
//! `chromium-driver`) for the browser tests of the playground and the console: skip without
//! them unless `CI` is set, a chromedriver that takes its Chromium down with it, and where
//! screenshots go.

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

/// A running chromedriver on a free port, killed (with the Chromium below it) when dropped.
pub struct Driver {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Driver {
    /// Starts chromedriver and waits until it listens.
    ///
    /// # Panics
    /// When it cannot start or does not listen within 20 s.
    pub fn start(chromedriver: &Path) -> Driver {
        let port = crate::spin::free_port();
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
    ///
    /// # Panics
    /// When the WebDriver session cannot be made.
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
        for pid in crate::spin::descendants(self.child.id()) {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `target/<dir>/` of the workspace (created).
///
/// # Panics
/// When it cannot be created.
pub fn screenshot_dir(dir: &str) -> PathBuf {
    let out = crate::spin::workspace_root().join("target").join(dir);
    std::fs::create_dir_all(&out).expect("screenshot dir");
    out
}
