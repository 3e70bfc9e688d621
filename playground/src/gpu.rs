//! The real `gpu-host` as a child process.
//!
//! Its binary is built by cargo with the same package selection as `cargo run -p
//! playground` plus the gpu-host (`cargo build -p playground -p gpu-host --bin gpu-host`):
//! every dependency then resolves to the features the playground's own build (and `cargo
//! test --workspace`) gave it, so a warm `target/` builds nothing and the binary
//! `cargo test --workspace` linked is used as it is. A `cargo build -p gpu-host` alone
//! would resolve fewer features and rebuild a score of crates first.
//!
//! The variables cargo sets for the program it runs (`CARGO_MANIFEST_DIR`,
//! `CARGO_PKG_NAME`…) are left out of the nested cargo's environment: build scripts watch
//! some of them (ring's `rerun-if-env-changed=CARGO_PKG_NAME`), so inheriting the
//! playground's values would make cargo run them again and rebuild what sits above them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Builds the `gpu-host` binary (a no-op when fresh) and answers its path.
///
/// # Errors
/// When cargo cannot run, the build fails or names no `gpu-host` executable.
pub fn build() -> Result<PathBuf, String> {
    let out = build_command()
        .output()
        .map_err(|e| format!("cannot run cargo build -p gpu-host: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo build -p gpu-host failed: {}", out.status));
    }
    executable(&String::from_utf8_lossy(&out.stdout))
        .ok_or_else(|| "cargo build -p gpu-host named no gpu-host executable".to_owned())
}

/// `cargo build -p playground -p gpu-host --bin gpu-host`, in the profile and target
/// directory of the running playground, reporting its artifacts as JSON on stdout.
fn build_command() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
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
    .current_dir(testkit::spin::workspace_root())
    .stdin(Stdio::null())
    .stderr(Stdio::inherit());
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    if let Some(dir) = own_target_dir() {
        cmd.arg("--target-dir").arg(dir);
    }
    cmd
}

pub use testkit::spin::set_by_cargo_for_a_run;

/// The target directory the running binary was built in (the nearest ancestor holding
/// cargo's `CACHEDIR.TAG`).
fn own_target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .find(|d| d.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
}

/// The `gpu-host` executable named in cargo's JSON messages.
pub fn executable(messages: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "gpu-host")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
}

/// A running `gpu-host`, killed when dropped.
///
/// Its environment is exactly the defaults below plus what [`GpuProcess::start`] is given
/// (nothing is inherited); it runs in a temporary directory (so no stray `.env` is read)
/// and logs JSON into a file there ([`GpuProcess::log`]).
pub struct GpuProcess {
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl GpuProcess {
    /// Starts `bin` with `env` over the defaults: the project's `workflows/`, a private GPU
    /// lock file, no metrics listener, quick retries, JSON logs at `info`.
    ///
    /// # Errors
    /// When the directory, the log file or the process cannot be made.
    pub fn start(bin: &Path, env: &[(&str, String)]) -> Result<GpuProcess, String> {
        let dir = tempfile::Builder::new()
            .prefix("playground-gpu-host-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        let log = std::fs::File::create(dir.path().join("gpu-host.log"))
            .map_err(|e| format!("cannot create the gpu-host log: {e}"))?;
        let mut cmd = Command::new(bin);
        cmd.env_clear()
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in defaults(dir.path()).iter().chain(env.iter()) {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        Ok(GpuProcess {
            child: Some(child),
            dir,
        })
    }

    /// What the host logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("gpu-host.log")).unwrap_or_default()
    }

    /// SIGTERM (the host finishes what it can), then SIGKILL when it has not exited
    /// within `grace`.
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

impl Drop for GpuProcess {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The host's settings the playground does not take from its options.
fn defaults(dir: &Path) -> Vec<(&'static str, String)> {
    let workflows = testkit::spin::workspace_root().join("workflows");
    vec![
        ("WORKFLOWS_DIR", workflows.display().to_string()),
        ("GPU_LOCK_PATH", dir.join("gpu.lock").display().to_string()),
        ("CONSUMER_NAME", "playground-gpu".to_owned()),
        ("METRICS_ADDR", String::new()),
        ("RETRY_BASE_MS", "50".to_owned()),
        ("RETRY_MAX_MS", "400".to_owned()),
        ("RECONCILE_MS", "500".to_owned()),
        ("SHUTDOWN_GRACE_SECS", "5".to_owned()),
        ("LOG_FORMAT", "json".to_owned()),
        ("RUST_LOG", "info".to_owned()),
    ]
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
