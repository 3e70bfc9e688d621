//! Support for the playground's tests: the `playground` binary as a child process, the
//! processes it started (from `/proc`), and headless Chromium driven over WebDriver.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the playground may take to come up (a stale build included).
pub const READY_TIMEOUT: Duration = Duration::from_secs(600);

/// A running `playground` binary; SIGKILLed with what it started when dropped.
pub struct PlaygroundProcess {
    /// The child.
    pub child: Child,
    /// The chat page URL.
    pub url: String,
    /// The edge's URL.
    pub edge: String,
    log: PathBuf,
    stdout: Arc<Mutex<Vec<String>>>,
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
        let out = child.stdout.take().expect("stdout");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let lines = stdout.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(mut l) = lines.lock() {
                    l.push(line);
                }
            }
        });
        let ready = wait_ready(&stdout, &mut child, &log);
        let (url, edge) = parse_ready(&ready);
        PlaygroundProcess {
            child,
            url,
            edge,
            log,
            stdout,
        }
    }

    /// What it logged so far: its standard error (cargo's output among it).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// What it printed on standard output so far (its log and the "ready" lines).
    pub fn stdout(&self) -> String {
        self.stdout.lock().map(|l| l.join("\n")).unwrap_or_default()
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

fn wait_ready(stdout: &Mutex<Vec<String>>, child: &mut Child, log: &Path) -> String {
    let end = Instant::now() + READY_TIMEOUT;
    while Instant::now() < end {
        let ready = stdout.lock().ok().and_then(|lines| {
            lines
                .iter()
                .find(|l| l.starts_with("Playground ready"))
                .cloned()
        });
        if let Some(line) = ready {
            return line;
        }
        std::thread::sleep(Duration::from_millis(100));
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

/// `target/playground-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    testkit::browser::screenshot_dir("playground-screenshots")
}
