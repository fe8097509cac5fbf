//! `chaosdeck run-all`: every experiment of a folder (or the files named), each with a banner,
//! a journal in the reports folder, PASSED or FAILED by verdict, and always a closing summary.

use super::printer::{colour_enabled, paint};
use super::run::{execute, RunRequest};
use super::{PrepareOptions, RunFlags};
use chrono::Local;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Experiments named by folders and files: a folder gives its `.yaml`, `.yml` and `.json`
/// files in name order.
pub fn collect(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .map_err(|e| format!("cannot read {}: {e}", input.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| is_experiment(p))
                .collect();
            found.sort();
            out.extend(found);
        } else if input.is_file() {
            out.push(input.clone());
        } else {
            return Err(format!("{} does not exist", input.display()));
        }
    }
    Ok(out)
}

fn is_experiment(p: &Path) -> bool {
    p.is_file()
        && matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        )
}

/// What `run-all` needs.
#[derive(Debug, Clone)]
pub struct RunAllRequest {
    pub inputs: Vec<PathBuf>,
    /// Run only the experiment with this file stem.
    pub only: Option<String>,
    pub reports_dir: PathBuf,
    pub prepare: PrepareOptions,
    pub flags: RunFlags,
}

/// Runs them all; exit code 1 if any failed.
pub async fn run_all(req: RunAllRequest) -> i32 {
    let mut err = std::io::stderr();
    let colour = colour_enabled();
    let mut experiments = match collect(&req.inputs) {
        Ok(e) => e,
        Err(msg) => {
            let _ = writeln!(err, "error: {msg}");
            return 1;
        }
    };
    if let Some(name) = &req.only {
        let all = experiments.clone();
        experiments.retain(|p| stem(p) == *name);
        if experiments.is_empty() {
            let _ = writeln!(err, "error: no experiment named '{name}'. Available:");
            for p in &all {
                let _ = writeln!(err, "  {}", stem(p));
            }
            return 1;
        }
    }
    if experiments.is_empty() {
        let _ = writeln!(err, "error: no experiments (.yaml, .yml, .json) found");
        return 1;
    }
    if let Err(e) = std::fs::create_dir_all(&req.reports_dir) {
        let _ = writeln!(
            err,
            "error: cannot create the reports folder {}: {e}",
            req.reports_dir.display()
        );
        return 1;
    }
    let rule = "=".repeat(60);
    let (mut passed, mut failed) = (0usize, 0usize);
    for path in &experiments {
        let name = stem(path);
        let _ = writeln!(err, "{rule}\nRunning: {name}\n{rule}");
        let journal = unique_report(&req.reports_dir, &name);
        let request = RunRequest {
            spec: path.display().to_string(),
            prepare: req.prepare.clone(),
            flags: req.flags.clone(),
            journal_path: journal.clone(),
            ctk_exit_code: false,
            events_file: None,
            step: crate::engine::StepMode::Off,
        };
        let ok = matches!(execute(&request, &mut err).await, Ok(r) if r.verdict.passed);
        if ok {
            passed += 1;
            let _ = writeln!(err, "{}", paint(&format!("✓ {name} PASSED"), "32", colour));
        } else {
            failed += 1;
            let _ = writeln!(err, "{}", paint(&format!("✗ {name} FAILED"), "31", colour));
            if journal.exists() {
                let _ = writeln!(err, "  report: {}", journal.display());
            }
        }
    }
    let _ = writeln!(
        err,
        "{rule}\nSummary\n{rule}\nPassed: {passed}\nFailed: {failed}\nReports: {}",
        req.reports_dir.display()
    );
    i32::from(failed > 0)
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `NAME-YYYYMMDD-HHMMSS.json` in the reports folder; `-2`, `-3`… when that name is taken (two
/// files with one stem, or two runs in the same second), so no journal overwrites another.
fn unique_report(dir: &Path, name: &str) -> PathBuf {
    let stamp = Local::now().format("%Y%m%d-%H%M%S");
    let first = dir.join(format!("{name}-{stamp}.json"));
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| dir.join(format!("{name}-{stamp}-{n}.json")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}
