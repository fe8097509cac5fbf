//! Finding the program a process activity names, the way Chaos Toolkit does before it runs
//! anything: a leading `~` is expanded, a name with a `/` is taken as a file, any other name is
//! looked up on `PATH`, and the file found must be executable by us.

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Resolves a process provider's `path` to the executable that will run.
///
/// The error is a sentence for the user without the activity it came from (the caller adds
/// it): either the program cannot be found, or it exists but we may not execute it.
pub fn resolve_executable(path: &str) -> Result<PathBuf, String> {
    resolve_with(path, std::env::var_os("PATH"), std::env::var_os("HOME"))
}

/// Same as [`resolve_executable`] with `PATH` and `HOME` given, so tests need not touch the
/// process environment.
fn resolve_with(
    path: &str,
    search_path: Option<OsString>,
    home: Option<OsString>,
) -> Result<PathBuf, String> {
    let not_found = |why: &str| format!("path '{path}' cannot be found ({why})");
    if path.trim().is_empty() {
        return Err(not_found("it is empty"));
    }
    let expanded = expand_tilde(path, home.as_deref());
    if expanded.as_os_str().as_bytes().contains(&b'/') {
        return match check_file(&expanded) {
            Candidate::Runnable => Ok(expanded),
            Candidate::NotExecutable => Err(no_permission(path)),
            Candidate::Directory => Err(not_found("it is a directory")),
            Candidate::Missing => Err(not_found("no such file")),
        };
    }
    let mut saw_unrunnable = false;
    if let Some(dirs) = search_path {
        for dir in std::env::split_paths(&dirs) {
            // An empty PATH entry means the current directory, as in a shell.
            let dir = if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            };
            let candidate = dir.join(&expanded);
            match check_file(&candidate) {
                Candidate::Runnable => return Ok(candidate),
                Candidate::NotExecutable => saw_unrunnable = true,
                Candidate::Directory | Candidate::Missing => {}
            }
        }
    }
    if saw_unrunnable {
        Err(no_permission(path))
    } else {
        Err(not_found("not a file and not on PATH"))
    }
}

fn no_permission(path: &str) -> String {
    format!("no access permission to '{path}' (the file exists but is not executable)")
}

/// `~` and `~/rest` become the home directory; `~user` is left as written.
fn expand_tilde(path: &str, home: Option<&OsStr>) -> PathBuf {
    let rest = if path == "~" {
        Some("")
    } else {
        path.strip_prefix("~/")
    };
    match (rest, home) {
        (Some(rest), Some(home)) if !home.is_empty() => Path::new(home).join(rest),
        _ => PathBuf::from(path),
    }
}

enum Candidate {
    Runnable,
    NotExecutable,
    Directory,
    Missing,
}

fn check_file(path: &Path) -> Candidate {
    match std::fs::metadata(path) {
        Err(_) => Candidate::Missing,
        Ok(meta) if meta.is_dir() => Candidate::Directory,
        Ok(_) if executable_by_us(path) => Candidate::Runnable,
        Ok(_) => Candidate::NotExecutable,
    }
}

/// Asks the kernel whether we may execute the file (owner, group, other bits and root's
/// rules all taken into account).
fn executable_by_us(path: &Path) -> bool {
    let Ok(c_path) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c_path` is a valid NUL-terminated string that outlives the call; access(2)
    // only reads it.
    unsafe { libc::access(c_path.as_ptr(), libc::X_OK) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("chaosdeck-pathlookup-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).expect("temp dir");
            TempDir(dir)
        }

        fn file(&self, name: &str, mode: u32) -> PathBuf {
            let p = self.0.join(name);
            fs::write(&p, "#!/bin/sh\n").expect("write");
            fs::set_permissions(&p, fs::Permissions::from_mode(mode)).expect("chmod");
            p
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn is_root() -> bool {
        // SAFETY: geteuid has no preconditions.
        unsafe { libc::geteuid() == 0 }
    }

    #[test]
    fn finds_a_program_on_path() {
        let dir = TempDir::new("onpath");
        let tool = dir.file("my-tool", 0o755);
        let found = resolve_with("my-tool", Some(dir.0.clone().into()), None);
        assert_eq!(found, Ok(tool));
    }

    #[test]
    fn real_path_lookup_finds_sh() {
        let found = resolve_executable("sh").expect("sh is on PATH");
        assert!(found.ends_with("sh"));
    }

    #[test]
    fn missing_program_is_not_found() {
        let dir = TempDir::new("missing");
        let err = resolve_with("no-such-tool", Some(dir.0.clone().into()), None).unwrap_err();
        assert_eq!(
            err,
            "path 'no-such-tool' cannot be found (not a file and not on PATH)"
        );
        let err = resolve_with("/no/such/file", None, None).unwrap_err();
        assert_eq!(err, "path '/no/such/file' cannot be found (no such file)");
        let err = resolve_with("", None, None).unwrap_err();
        assert!(err.contains("cannot be found"), "{err}");
    }

    #[test]
    fn a_directory_is_not_a_program() {
        let dir = TempDir::new("dir");
        let err = resolve_with(&dir.0.to_string_lossy(), None, None).unwrap_err();
        assert!(
            err.ends_with("cannot be found (it is a directory)"),
            "{err}"
        );
    }

    #[test]
    fn non_executable_file_is_refused() {
        let dir = TempDir::new("noexec");
        let plain = dir.file("data.txt", 0o644);
        let text = plain.to_string_lossy().to_string();
        let err = resolve_with(&text, None, None).unwrap_err();
        assert_eq!(
            err,
            format!("no access permission to '{text}' (the file exists but is not executable)")
        );
        let err = resolve_with("data.txt", Some(dir.0.clone().into()), None).unwrap_err();
        assert!(
            err.starts_with("no access permission to 'data.txt'"),
            "{err}"
        );
        if !is_root() {
            let owner_only = dir.file("mine", 0o000);
            let err = resolve_with(&owner_only.to_string_lossy(), None, None).unwrap_err();
            assert!(err.starts_with("no access permission"), "{err}");
        }
    }

    #[test]
    fn executable_found_later_on_path_wins_over_unrunnable_one() {
        let first = TempDir::new("first");
        let second = TempDir::new("second");
        first.file("tool", 0o644);
        let good = second.file("tool", 0o755);
        let joined = std::env::join_paths([&first.0, &second.0]).expect("join");
        assert_eq!(resolve_with("tool", Some(joined), None), Ok(good));
    }

    #[test]
    fn tilde_is_the_home_directory() {
        let home = TempDir::new("home");
        let tool = home.file("run.sh", 0o755);
        let found = resolve_with("~/run.sh", None, Some(home.0.clone().into()));
        assert_eq!(found, Ok(tool));
        assert_eq!(
            expand_tilde("~other/x", Some(OsStr::new("/h"))),
            PathBuf::from("~other/x")
        );
        assert_eq!(
            expand_tilde("~", Some(OsStr::new("/h"))),
            PathBuf::from("/h")
        );
    }
}
