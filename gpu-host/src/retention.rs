//! Retention on the GPU host: people's photos are not kept once their job is over.
//!
//! ComfyUI 0.33 has no delete endpoint, so the host is told where ComfyUI's `input/` and
//! `output/` directories are on this machine (`COMFY_INPUT_DIR`, `COMFY_OUTPUT_DIR`) and
//! deletes files there itself — only files it named:
//!
//! * inputs are uploaded as [`input_name`] (`qwen_in_<job id>_<attempt>_<n>.png`);
//! * outputs are saved under [`output_prefix`] (`qwen_edit/<job id>`), which ComfyUI's
//!   `SaveImage` turns into `qwen_edit/<job id>_<counter>_.png`.
//!
//! When a job is final, every attempt's inputs and the job's outputs are deleted; when only
//! this attempt ended (another attempt owns the job), only this attempt's inputs. A periodic
//! [`Retention::sweep`] removes leftovers (a host that crashed, an api that never answered)
//! that match those names and are older than `RETENTION_SECS`. A name that is not the
//! host's own, a job id that is not a plain token, a symlink or a path that leaves the
//! directory is never touched.

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Prefix of every input the host uploads.
pub const INPUT_PREFIX: &str = "qwen_in_";
/// Subfolder of `output/` the host's workflows save into.
pub const OUTPUT_SUBFOLDER: &str = "qwen_edit";

/// The name an input is uploaded under: the job, the attempt and the image's index.
pub fn input_name(job_id: &str, attempt: u32, index: usize) -> String {
    format!("{INPUT_PREFIX}{job_id}_{attempt}_{index}.png")
}

/// The `SaveImage` prefix of a job's output.
pub fn output_prefix(job_id: &str) -> String {
    format!("{OUTPUT_SUBFOLDER}/{job_id}")
}

/// A job id the host names files after: letters, digits and dashes (a UUID), nothing that
/// could spell a path.
fn plain_token(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The job id of one of the host's input names, `None` for any other name.
fn input_job(name: &str) -> Option<&str> {
    let rest = name.strip_prefix(INPUT_PREFIX)?.strip_suffix(".png")?;
    let (rest, index) = rest.rsplit_once('_')?;
    let (job, attempt) = rest.rsplit_once('_')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(index) && digits(attempt) && plain_token(job)).then_some(job)
}

/// The job id of one of the host's output names (`<job id>_<counter>_.png`).
fn output_job(name: &str) -> Option<&str> {
    let rest = name.strip_suffix("_.png")?;
    let (job, counter) = rest.rsplit_once('_')?;
    let digits = !counter.is_empty() && counter.bytes().all(|b| b.is_ascii_digit());
    (digits && plain_token(job)).then_some(job)
}

/// How much of a job's files to delete when this host is done with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The job is final (succeeded, failed, cancelled, unknown to the edge): every
    /// attempt's inputs and the job's outputs.
    Job,
    /// Only this attempt ended (another attempt owns the job): this attempt's inputs.
    Attempt,
}

/// What a sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Input files deleted.
    pub inputs: usize,
    /// Output files deleted.
    pub outputs: usize,
}

/// ComfyUI's directories on this machine and how long leftovers may stay.
#[derive(Debug, Clone)]
struct Dirs {
    input: PathBuf,
    output: PathBuf,
}

/// The host's retention of inputs and outputs (off when the directories are not set).
#[derive(Debug)]
pub struct Retention {
    dirs: Option<Dirs>,
    keep: Duration,
    active: RefCell<HashSet<String>>,
}

impl Retention {
    /// Retention over ComfyUI's `input` and `output` directories, leftovers kept `keep`.
    pub fn new(input: &Path, output: &Path, keep: Duration) -> Self {
        Self {
            dirs: Some(Dirs {
                input: input.to_path_buf(),
                output: output.to_path_buf(),
            }),
            keep,
            active: RefCell::default(),
        }
    }

    /// No retention: nothing is ever deleted.
    pub fn off() -> Self {
        Self {
            dirs: None,
            keep: Duration::ZERO,
            active: RefCell::default(),
        }
    }

    /// Whether files are deleted at all.
    pub fn enabled(&self) -> bool {
        self.dirs.is_some()
    }

    /// How often the sweep runs: half the retention time, between 1 s and 10 min.
    pub fn sweep_every(&self) -> Duration {
        (self.keep / 2).clamp(Duration::from_secs(1), Duration::from_secs(600))
    }

    /// Notes a job this host is working on: the sweep leaves its files alone.
    pub fn begin(&self, job_id: &str) {
        self.active.borrow_mut().insert(job_id.to_owned());
    }

    /// Forgets a job this host stopped working on, without deleting anything (its entry is
    /// left for a later delivery).
    pub fn forget(&self, job_id: &str) {
        self.active.borrow_mut().remove(job_id);
    }

    /// The host is done with `attempt` of `job_id` (which had `images` inputs): deletes its
    /// files as `scope` says. Returns how many files were deleted.
    pub fn ended(&self, job_id: &str, attempt: u32, images: usize, scope: Scope) -> usize {
        self.forget(job_id);
        let Some(dirs) = &self.dirs else { return 0 };
        if !plain_token(job_id) {
            tracing::warn!(
                job_id,
                "job id is not a plain token: deleting none of its files"
            );
            return 0;
        }
        let first = match scope {
            Scope::Job => 1,
            Scope::Attempt => attempt,
        };
        let mut deleted = 0;
        for a in first..=attempt {
            for i in 0..images {
                deleted += usize::from(remove(&dirs.input, &input_name(job_id, a, i)));
            }
        }
        if scope == Scope::Job {
            deleted += remove_outputs(&dirs.output, |job| job == job_id);
        }
        tracing::debug!(job_id, deleted, ?scope, "retention: job files deleted");
        deleted
    }

    /// Removes the host's own files older than the retention time, except those of jobs it
    /// is working on.
    pub fn sweep(&self, now: SystemTime) -> Swept {
        let Some(dirs) = &self.dirs else {
            return Swept::default();
        };
        let active = self.active.borrow().clone();
        let old = |path: &Path| older_than(path, now, self.keep);
        let inputs = remove_matching(&dirs.input, |name, path| {
            input_job(name).is_some_and(|job| !active.contains(job)) && old(path)
        });
        let outputs =
            remove_outputs_where(&dirs.output, |job, path| !active.contains(job) && old(path));
        Swept { inputs, outputs }
    }
}

/// Whether `path` was last modified more than `keep` before `now` (`keep` 0: always).
fn older_than(path: &Path, now: SystemTime, keep: Duration) -> bool {
    if keep.is_zero() {
        return true;
    }
    std::fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| now.duration_since(t).ok())
        .is_some_and(|age| age > keep)
}

/// Deletes the outputs in `output/qwen_edit/` whose job matches.
fn remove_outputs(output: &Path, job_matches: impl Fn(&str) -> bool) -> usize {
    remove_outputs_where(output, |job, _| job_matches(job))
}

fn remove_outputs_where(output: &Path, keep_out: impl Fn(&str, &Path) -> bool) -> usize {
    let Some(sub) = subdir_within(output, OUTPUT_SUBFOLDER) else {
        return 0;
    };
    remove_matching(&sub, |name, path| {
        output_job(name).is_some_and(|job| keep_out(job, path))
    })
}

/// `dir/sub` when it is a real directory inside `dir` (not a symlink leading elsewhere).
fn subdir_within(dir: &Path, sub: &str) -> Option<PathBuf> {
    let base = std::fs::canonicalize(dir).ok()?;
    let path = std::fs::canonicalize(dir.join(sub)).ok()?;
    (path.parent() == Some(base.as_path()) && path.is_dir()).then_some(path)
}

/// Deletes every regular file directly in `dir` that `wanted(name, path)` picks.
fn remove_matching(dir: &Path, wanted: impl Fn(&str, &Path) -> bool) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut deleted = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if wanted(name, &entry.path()) && remove(dir, name) {
            deleted += 1;
        }
    }
    deleted
}

/// Deletes the regular file `dir/name`; `name` must be a plain file name. `true` if deleted.
fn remove(dir: &Path, name: &str) -> bool {
    if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
        tracing::warn!(name, "refusing to delete a path outside the directory");
        return false;
    }
    let path = dir.join(name);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_file() => match std::fs::remove_file(&path) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "retention: delete failed");
                false
            }
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_hosts_own_names_are_recognized() {
        let id = "0f8c2a52-9d7e-4b1e-8f2e-6a3c1d2b4e5f";
        assert_eq!(input_job(&input_name(id, 3, 1)), Some(id));
        assert_eq!(output_job(&format!("{id}_00012_.png")), Some(id));
        for other in [
            "photo.png",
            "qwen_in_.png",
            "qwen_in_a_b_1.png",
            "qwen_in_../x_1_1.png",
            "qwen_in_x_1_1.jpg",
            "example.png",
        ] {
            assert_eq!(input_job(other), None, "{other}");
        }
        for other in ["x_y_.png", "a/b_00001_.png", "a_00001.png", "a_00001_.webp"] {
            assert_eq!(output_job(other), None, "{other}");
        }
        assert!(!plain_token("../etc") && !plain_token("") && plain_token(id));
    }

    fn touch(path: &Path, age: Duration) {
        std::fs::write(path, b"x").expect("write");
        let file = std::fs::File::options()
            .write(true)
            .open(path)
            .expect("open");
        file.set_modified(SystemTime::now() - age).expect("mtime");
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    #[test]
    fn a_job_end_deletes_exactly_its_own_files() {
        let root = tempfile::tempdir().expect("dir");
        let (input, output) = (root.path().join("input"), root.path().join("output"));
        let sub = output.join(OUTPUT_SUBFOLDER);
        std::fs::create_dir_all(&input).expect("input");
        std::fs::create_dir_all(&sub).expect("output");
        for a in 1..=3 {
            touch(&input.join(input_name("job-1", a, 0)), Duration::ZERO);
        }
        touch(&input.join(input_name("job-2", 1, 0)), Duration::ZERO);
        touch(&input.join("holiday.png"), Duration::ZERO);
        touch(&sub.join("job-1_00001_.png"), Duration::ZERO);
        touch(&sub.join("job-1_00007_.png"), Duration::ZERO);
        touch(&sub.join("job-2_00002_.png"), Duration::ZERO);
        touch(&output.join("job-1_00003_.png"), Duration::ZERO);
        let r = Retention::new(&input, &output, Duration::from_secs(3600));
        assert_eq!(r.ended("job-1", 2, 1, Scope::Attempt), 1);
        assert!(!input.join(input_name("job-1", 2, 0)).exists());
        assert_eq!(r.ended("job-1", 3, 1, Scope::Job), 4);
        assert_eq!(
            names(&input),
            ["holiday.png".into(), input_name("job-2", 1, 0)]
        );
        assert_eq!(names(&sub), ["job-2_00002_.png"]);
        assert_eq!(
            names(&output),
            ["job-1_00003_.png", OUTPUT_SUBFOLDER],
            "only qwen_edit/ is ours"
        );
        assert_eq!(r.ended("../input/holiday", 1, 1, Scope::Job), 0);
        assert!(input.join("holiday.png").exists());
    }

    #[test]
    fn the_sweep_takes_old_leftovers_of_its_own_only() {
        let root = tempfile::tempdir().expect("dir");
        let (input, output) = (root.path().join("input"), root.path().join("output"));
        let sub = output.join(OUTPUT_SUBFOLDER);
        std::fs::create_dir_all(&input).expect("input");
        std::fs::create_dir_all(&sub).expect("output");
        let day = Duration::from_secs(86_400);
        touch(&input.join(input_name("old", 1, 0)), 2 * day);
        touch(
            &input.join(input_name("young", 1, 0)),
            Duration::from_secs(60),
        );
        touch(&input.join(input_name("running", 1, 0)), 2 * day);
        touch(&input.join("ancient-user-file.png"), 30 * day);
        touch(&sub.join("old_00001_.png"), 2 * day);
        touch(&sub.join("young_00002_.png"), Duration::from_secs(60));
        let r = Retention::new(&input, &output, day);
        r.begin("running");
        let swept = r.sweep(SystemTime::now());
        assert_eq!((swept.inputs, swept.outputs), (1, 1));
        assert_eq!(
            names(&input),
            [
                "ancient-user-file.png".to_owned(),
                input_name("running", 1, 0),
                input_name("young", 1, 0)
            ]
        );
        assert_eq!(names(&sub), ["young_00002_.png"]);
        let at_once = Retention::new(&input, &output, Duration::ZERO);
        assert_eq!(
            at_once.sweep(SystemTime::now()),
            Swept {
                inputs: 2,
                outputs: 1
            }
        );
        assert_eq!(names(&input), ["ancient-user-file.png"]);
        assert!(!Retention::off().enabled() && Retention::off().ended("x", 1, 1, Scope::Job) == 0);
    }
}
