//! Support for the playground's tests: the `playground` binary as a child process, the
//! processes it started (from `/proc`), and headless Chromium driven over WebDriver.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the playground may take to come up (a stale build included).
pub const READY_TIMEOUT: Duration = Duration::from_secs(600);

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
/// When either is missing and `CI` is set (as `testkit::spin::spin_or_skip`).
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

/// A running `playground` binary; SIGKILLed with what it started when dropped.
pub struct PlaygroundProcess {
    /// The child.
    pub child: Child,
    /// The chat page URL.
    pub url: String,
    /// The edge's URL.
    pub edge: String,
    log: PathBuf,
}

impl PlaygroundProcess {
    /// Starts `playground` with `args` (plus `--port 0`) and waits for its "ready" line.
    pub fn start(args: &[&str], log_dir: &Path) -> PlaygroundProcess {
        std::fs::create_dir_all(log_dir).expect("log dir");
        let log = log_dir.join("playground.log");
        let err = std::fs::File::create(&log).expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_playground"))
            .args(["--port", "0"])
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .expect("start playground");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let ready = wait_ready(&rx, &mut child, &log);
        let (url, edge) = parse_ready(&ready);
        PlaygroundProcess {
            child,
            url,
            edge,
            log,
        }
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGINT (Ctrl-C) and waits up to `timeout` for the exit.
    pub fn interrupt(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status();
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

fn wait_ready(rx: &mpsc::Receiver<String>, child: &mut Child, log: &Path) -> String {
    let end = Instant::now() + READY_TIMEOUT;
    while Instant::now() < end {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200))
            && line.starts_with("Playground ready")
        {
            return line;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let out = std::fs::read_to_string(log).unwrap_or_default();
            panic!("playground exited ({status}) before it was ready:\n{out}");
        }
    }
    panic!("playground not ready within {READY_TIMEOUT:?}");
}

/// (page URL, edge URL) from "Playground ready: <url>  (edge: <url>)".
fn parse_ready(line: &str) -> (String, String) {
    let mut urls = line
        .split_whitespace()
        .filter(|w| w.starts_with("http://"))
        .map(|w| w.trim_end_matches(')').to_owned());
    let page = urls.next().expect("page url");
    let edge = urls.next().expect("edge url");
    (page, edge)
}

impl Drop for PlaygroundProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let tree = descendants(self.child.id());
            let _ = self.child.kill();
            for (pid, _) in tree {
                let _ = Command::new("kill")
                    .arg("-KILL")
                    .arg(pid.to_string())
                    .status();
            }
            let _ = self.child.wait();
        }
    }
}

/// The processes below `pid` with their names (`/proc/<pid>/comm`).
pub fn descendants(pid: u32) -> Vec<(u32, String)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let procs: Vec<(u32, u32, String)> = dir
        .flatten()
        .filter_map(|e| {
            let p: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let (head, rest) = stat.rsplit_once(')')?;
            let name = head.split_once('(')?.1.to_owned();
            let ppid = rest.split_whitespace().nth(1)?.parse().ok()?;
            Some((p, ppid, name))
        })
        .collect();
    let mut found: Vec<(u32, String)> = vec![(pid, String::new())];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i].0;
        for (p, pp, name) in &procs {
            if *pp == parent {
                found.push((*p, name.clone()));
            }
        }
        i += 1;
    }
    found.remove(0);
    found
}

/// Whether process `pid` still exists (and is not a zombie).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, r)| !r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// A running chromedriver on a free port, killed when dropped.
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
                    "--disable-dev-shm-usage", "--window-size=1400,1000"]
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
        // Chromium runs below chromedriver and would outlive it.
        for (pid, _) in descendants(self.child.id()) {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `target/playground-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|t| t.join("playground-screenshots"))
        .unwrap_or_else(|| PathBuf::from("playground-screenshots"));
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}
