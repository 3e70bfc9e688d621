//! The real Spin runtime in tests and benchmarks: `spin up` on the project's manifest (or
//! another one) on a free loopback port with its own state directory, and a private
//! `redis-server` that a test may stop and start again.
//!
//! Spin is looked up on `PATH` only. When it is missing, [`spin_or_skip`] tells the caller
//! to skip with a clear message, unless `CI` is set: then it panics with that message, so a
//! CI machine without Spin fails instead of passing silently.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long `spin up` may take to answer its first request.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The workspace root (where `spin.toml` lives).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The `spin` binary on `PATH`, if any.
pub fn find_spin() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("spin"))
        .find(|p| p.is_file())
}

/// The message shown when Spin is missing.
pub const MISSING: &str = "the Spin CLI (`spin`, 4.0 or newer) is not on PATH: install it from \
     https://spinframework.dev/install and put it on PATH to run the tests inside the real runtime";

/// The `spin` binary, or `None` after printing why the caller skips.
///
/// # Panics
/// When `spin` is missing and the `CI` environment variable is set.
pub fn spin_or_skip(what: &str) -> Option<PathBuf> {
    if let Some(p) = find_spin() {
        return Some(p);
    }
    if std::env::var_os("CI").is_some() {
        panic!("{what}: {MISSING} (CI is set, so this is a failure, not a skip)");
    }
    eprintln!("skipping {what}: {MISSING}");
    None
}

/// Builds the project's components once per process, exactly as `spin build` does
/// (`scripts/build-components.sh`); a no-op when they are fresh.
///
/// # Panics
/// When the build fails (the test cannot run on stale or missing components).
pub fn build_components() {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let result = BUILT.get_or_init(|| {
        let status = Command::new("bash")
            .arg(workspace_root().join("scripts/build-components.sh"))
            .current_dir(workspace_root())
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run scripts/build-components.sh: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("scripts/build-components.sh failed: {status}"))
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
///
/// # Panics
/// When no loopback port can be bound.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// What to start `spin up` with.
#[derive(Debug, Clone, Default)]
pub struct SpinOptions {
    /// The manifest; the project's `spin.toml` when `None`.
    pub manifest: Option<PathBuf>,
    /// Spin variables, by their lowercase names (passed as `SPIN_VARIABLE_<NAME>`).
    pub variables: Vec<(String, String)>,
    /// A runtime config file (`--runtime-config-file`).
    pub runtime_config: Option<PathBuf>,
    /// The state directory; a fresh temporary one when `None`.
    pub state_dir: Option<PathBuf>,
    /// The port; a free one when `None`.
    pub port: Option<u16>,
}

impl SpinOptions {
    /// Adds a variable.
    pub fn var(mut self, name: &str, value: impl Into<String>) -> Self {
        self.variables.push((name.to_owned(), value.into()));
        self
    }
}

/// A running `spin up`, killed when dropped.
pub struct SpinApp {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The port it listens on.
    pub port: u16,
    /// Its state directory (SQLite database, key-value store, `logs/`).
    pub state_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    output: PathBuf,
}

impl SpinApp {
    /// Starts `spin up` and waits until it answers HTTP.
    ///
    /// # Panics
    /// When Spin cannot be started or does not answer within [`START_TIMEOUT`] (the panic
    /// message carries Spin's own output).
    pub async fn start(spin: &Path, opts: SpinOptions) -> SpinApp {
        let (temp, state_dir) = match opts.state_dir {
            Some(d) => (None, d),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("spin-state-")
                    .tempdir()
                    .expect("temp dir");
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        std::fs::create_dir_all(&state_dir).expect("state dir");
        let port = opts.port.unwrap_or_else(free_port);
        let manifest = opts
            .manifest
            .unwrap_or_else(|| workspace_root().join("spin.toml"));
        let output = state_dir.join("spin-up.out");
        let out = std::fs::File::create(&output).expect("spin output file");
        let err = out.try_clone().expect("spin output file");
        let mut cmd = Command::new(spin);
        cmd.arg("up")
            .arg("--from")
            .arg(&manifest)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--state-dir")
            .arg(&state_dir)
            .arg("--quiet")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        if let Some(rc) = &opts.runtime_config {
            cmd.arg("--runtime-config-file").arg(rc);
        }
        for (k, _) in std::env::vars() {
            if k.starts_with("SPIN_VARIABLE_") {
                cmd.env_remove(k);
            }
        }
        for (name, value) in &opts.variables {
            cmd.env(format!("SPIN_VARIABLE_{}", name.to_uppercase()), value);
        }
        let child = cmd.spawn().expect("spawn spin up");
        let mut app = SpinApp {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            port,
            state_dir,
            _temp: temp,
            output,
        };
        app.wait_ready().await;
        app
    }

    async fn wait_ready(&mut self) {
        let end = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("spin up exited ({status}):\n{}", self.spin_output());
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            if Instant::now() > end {
                panic!(
                    "spin up did not listen within {START_TIMEOUT:?}:\n{}",
                    self.spin_output()
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// What `spin up` itself printed.
    pub fn spin_output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    /// Every component log under `<state dir>/logs/`, concatenated (file name first).
    pub fn logs(&self) -> String {
        let mut out = String::new();
        let Ok(dir) = std::fs::read_dir(self.state_dir.join("logs")) else {
            return out;
        };
        let mut files: Vec<_> = dir.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            out.push_str(&format!("==> {}\n", f.display()));
            out.push_str(&std::fs::read_to_string(&f).unwrap_or_default());
        }
        out
    }

    /// The log lines of component `component` (stderr, where the components log).
    pub fn component_log(&self, component: &str) -> String {
        std::fs::read_to_string(
            self.state_dir
                .join("logs")
                .join(format!("{component}_stderr.txt")),
        )
        .unwrap_or_default()
    }

    /// The `default` SQLite database file of this app.
    pub fn sqlite_path(&self) -> PathBuf {
        self.state_dir.join("sqlite_db.db")
    }

    /// Kills `spin up` at once (`SIGKILL`).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SpinApp {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A private `redis-server` on a free port, stopped when dropped.
pub struct RedisServer {
    child: Option<Child>,
    /// The port it listens on (kept across [`RedisServer::stop`] / [`RedisServer::start_again`]).
    pub port: u16,
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts `redis-server` (no persistence) on a free port.
    ///
    /// # Panics
    /// When `redis-server` is not installed or does not answer within 10 s.
    pub async fn start() -> RedisServer {
        let dir = tempfile::Builder::new()
            .prefix("redis-")
            .tempdir()
            .expect("temp dir");
        let mut server = RedisServer {
            child: None,
            port: free_port(),
            dir,
        };
        server.start_again().await;
        server
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops the server (`SIGKILL`): the port refuses connections until [`Self::start_again`].
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same port (empty: nothing is persisted).
    ///
    /// # Panics
    /// When `redis-server` is missing or does not answer within 10 s.
    pub async fn start_again(&mut self) {
        self.stop();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start redis-server ({e}): install Redis 7 (e.g. apt-get install redis-server)")
            });
        self.child = Some(child);
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if self.ping().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("redis-server on port {} did not answer", self.port);
    }

    async fn ping(&self) -> bool {
        let Ok(client) = redis::Client::open(self.url()) else {
            return false;
        };
        let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
            return false;
        };
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .is_ok()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
