//! The genuine ComfyUI 0.33.0 as a child process for tests and benches: found where the
//! install script puts it, started on CPU on a free loopback port, killed when dropped.
//!
//! Where it looks: `COMFYUI_DIR`, else `${XDG_CACHE_HOME:-$HOME/.cache}/qwen-edit-bot/
//! comfyui-0.33.0` (the layout of the install script: `comfyui/main.py` and `venv/`).
//! [`installed_or_skip`] lets a test skip with a message where it is missing, except under
//! `CI`, where a missing install is a failure.
//!
//! It starts as production does: with the repository's `deploy/comfyui` first on
//! `PYTHONPATH`, whose `sitecustomize.py` freezes Python's garbage collector once ComfyUI has
//! loaded ([`GenuineComfy::start_with`] can leave it out, for comparisons).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a start may take before the server answers `GET /system_stats`.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// How to install the genuine ComfyUI where the tests look for it.
pub const INSTALL_HINT: &str = "install ComfyUI 0.33.0 there (`comfyui/main.py` and `venv/`) \
     as .ci/run does, about 4 minutes and 7 GB, or point COMFYUI_DIR at an install";

/// Where the genuine ComfyUI is looked for: `COMFYUI_DIR`, else the cache directory.
pub fn install_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("COMFYUI_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("qwen-edit-bot/comfyui-0.33.0")
}

/// The install directory when it holds a ComfyUI (`comfyui/main.py` and `venv/bin/python`).
pub fn installed() -> Option<PathBuf> {
    let dir = install_dir();
    let complete = dir.join("comfyui/main.py").is_file() && dir.join("venv/bin/python").exists();
    complete.then_some(dir)
}

/// The install directory, or `None` after printing why `test_name` is skipped.
///
/// # Panics
/// When the install is missing and `CI` is set: CI must run the genuine suite.
pub fn installed_or_skip(test_name: &str) -> Option<PathBuf> {
    if let Some(dir) = installed() {
        return Some(dir);
    }
    let missing = install_dir();
    if std::env::var_os("CI").is_some() {
        panic!(
            "{test_name}: genuine ComfyUI not installed at {} and CI is set; {INSTALL_HINT}",
            missing.display()
        );
    }
    eprintln!(
        "{test_name} skipped: genuine ComfyUI not installed at {} ({INSTALL_HINT})",
        missing.display()
    );
    None
}

/// The repository's `deploy/comfyui` directory (the `sitecustomize.py` start-up tweak).
pub fn sitecustomize_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/comfyui")
}

/// A genuine ComfyUI process on `127.0.0.1:port`, killed (`SIGKILL`) when dropped.
pub struct GenuineComfy {
    install: PathBuf,
    port: u16,
    input: PathBuf,
    output: PathBuf,
    freeze_gc: bool,
    log: PathBuf,
    child: Option<Child>,
    root: tempfile::TempDir,
}

impl GenuineComfy {
    /// Starts with `input` and `output` as its directories and the GC-freeze tweak on, and
    /// waits until it answers.
    ///
    /// # Panics
    /// When it cannot be started or does not answer within two minutes (test setup).
    pub async fn start(install: &Path, input: &Path, output: &Path) -> GenuineComfy {
        GenuineComfy::start_with(install, Some((input, output)), true).await
    }

    /// Starts with directories of its own (see [`GenuineComfy::input_dir`]), tweak on.
    ///
    /// # Panics
    /// As [`GenuineComfy::start`].
    pub async fn start_temp(install: &Path) -> GenuineComfy {
        GenuineComfy::start_with(install, None, true).await
    }

    /// Starts with `dirs` (input, output; its own when `None`), with the repository's
    /// `sitecustomize.py` on `PYTHONPATH` when `freeze_gc`, and waits until it answers.
    ///
    /// # Panics
    /// As [`GenuineComfy::start`].
    pub async fn start_with(
        install: &Path,
        dirs: Option<(&Path, &Path)>,
        freeze_gc: bool,
    ) -> GenuineComfy {
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let (input, output) = match dirs {
            Some((i, o)) => (i.to_path_buf(), o.to_path_buf()),
            None => (root.path().join("input"), root.path().join("output")),
        };
        for d in [&input, &output] {
            std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        }
        let mut comfy = GenuineComfy {
            install: install.to_path_buf(),
            port: free_port(),
            input,
            output,
            freeze_gc,
            log: root.path().join("comfyui.log"),
            child: None,
            root,
        };
        comfy.spawn();
        comfy.wait_ready().await;
        comfy
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap_or_else(|e| panic!("comfyui log {}: {e}", self.log.display()));
        let mut cmd = Command::new(self.install.join("venv/bin/python"));
        cmd.arg(self.install.join("comfyui/main.py"))
            .args(["--cpu", "--disable-api-nodes", "--disable-all-custom-nodes"])
            .args(["--listen", "127.0.0.1", "--port", &self.port.to_string()])
            .arg("--input-directory")
            .arg(&self.input)
            .arg("--output-directory")
            .arg(&self.output)
            .current_dir(self.install.join("comfyui"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        if self.freeze_gc {
            cmd.env("PYTHONPATH", sitecustomize_dir());
        } else {
            cmd.env_remove("PYTHONPATH");
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start ComfyUI in {}: {e}", self.install.display()));
        self.child = Some(child);
    }

    async fn wait_ready(&mut self) {
        let end = Instant::now() + READY_TIMEOUT;
        let stats = format!("{}/system_stats", self.url());
        while Instant::now() < end {
            if reqwest::get(&stats)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "ComfyUI exited ({status}) before it answered; {}",
                    self.log_note()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!(
            "ComfyUI did not answer {stats} within {READY_TIMEOUT:?}; {}",
            self.log_note()
        );
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Its input directory (uploads land here).
    pub fn input_dir(&self) -> &Path {
        &self.input
    }

    /// Its output directory (`SaveImage` writes here).
    pub fn output_dir(&self) -> &Path {
        &self.output
    }

    /// The file its stderr goes to (across restarts).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The end of its log, for a failure message.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn log_note(&self) -> String {
        format!("its log {}:\n{}", self.log.display(), self.log_tail(30))
    }

    /// Kills it (`SIGKILL`) and reaps it; history and queue are lost, files stay.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port with the same directories and waits until it
    /// answers (stopping it first if it runs).
    ///
    /// # Panics
    /// As [`GenuineComfy::start`].
    pub async fn restart(&mut self) {
        self.stop();
        self.spawn();
        self.wait_ready().await;
    }

    /// The temporary directory it keeps its log (and its own directories) in.
    pub fn temp_dir(&self) -> &Path {
        self.root.path()
    }
}

impl Drop for GenuineComfy {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!("genuine ComfyUI on port {}: {}", self.port, self.log_note());
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("a free port: {e}"))
}
