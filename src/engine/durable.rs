//! Atomic replacement of a file that is rewritten often (the journal, after every entry).
//!
//! A reader always finds the old text or the new one, whole. The plain way — a new temporary
//! file renamed over the old one — creates and frees an inode per write, which on some file
//! systems (ext4 with discard) costs more than everything else a run does per activity. So the
//! new text goes into a spare file that is kept, and the two are swapped atomically
//! (`renameat2(RENAME_EXCHANGE)`); where the file system cannot swap, the plain way is used.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// A file replaced atomically on every write.
#[derive(Debug)]
pub struct DurableFile {
    path: PathBuf,
    spare: PathBuf,
    swap_works: bool,
}

impl DurableFile {
    pub fn new(path: PathBuf) -> Self {
        DurableFile {
            spare: sibling(&path, "spare"),
            path,
            swap_works: true,
        }
    }

    /// Replaces the file's content; `sync` also flushes it to disk. A path that is not a
    /// regular file (`/dev/null`, a pipe) is written through; a symbolic link is followed, so
    /// the file it points to is replaced and the link stays.
    pub fn write(&mut self, bytes: &[u8], sync: bool) -> std::io::Result<()> {
        if let Ok(meta) = std::fs::symlink_metadata(&self.path) {
            if meta.file_type().is_symlink() {
                let target = std::fs::canonicalize(&self.path)
                    .or_else(|_| std::fs::read_link(&self.path))?;
                *self = DurableFile::new(target);
                return self.write(bytes, sync);
            }
            if !meta.file_type().is_file() {
                let mut file = OpenOptions::new().write(true).open(&self.path)?;
                return file.write_all(bytes);
            }
        }
        if self.swap_works && self.path.exists() {
            match self.write_by_swap(bytes, sync) {
                Ok(()) => return Ok(()),
                Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
                    self.swap_works = false;
                }
                Err(e) => return Err(e),
            }
        }
        write_by_rename(&self.path, &self.spare, bytes, sync)
    }

    fn write_by_swap(&self, bytes: &[u8], sync: bool) -> std::io::Result<()> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.spare)?;
        file.write_all_at(bytes, 0)?;
        file.set_len(bytes.len() as u64)?;
        if sync {
            file.sync_all()?;
        }
        exchange(&self.spare, &self.path)
    }

    /// Removes the spare file once no more writes come.
    pub fn close(&self) {
        let _ = std::fs::remove_file(&self.spare);
    }
}

/// A hidden file beside `path`: `.NAME.SUFFIX` in the same folder, so a rename is atomic.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    dir.join(format!(".{name}.{suffix}"))
}

/// Replaces `path` with `bytes` once, atomically, through a temporary file renamed over it.
pub fn replace(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    let tmp = sibling(path, &format!("{}.tmp", std::process::id()));
    write_by_rename(path, &tmp, bytes, sync)
}

fn write_by_rename(path: &Path, tmp: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    {
        let mut file = File::create(tmp)?;
        file.write_all(bytes)?;
        if sync {
            file.sync_all()?;
        }
    }
    std::fs::rename(tmp, path)
}

/// Swaps two paths atomically.
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    let ca = CString::new(a.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    let cb = CString::new(b.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: both pointers are valid NUL-terminated paths that outlive the call; renameat2
    // only reads them.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Every `.json` file of a folder read as `T`, with its path; files that cannot be read or
/// parsed are reported as `path: why` instead. A missing folder holds nothing.
pub fn read_json_dir<T: serde::de::DeserializeOwned>(
    dir: &Path,
) -> (Vec<(PathBuf, T)>, Vec<String>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (found, problems);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<T>(&t).map_err(|e| e.to_string()))
        {
            Ok(value) => found.push((path, value)),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    (found, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_write_replaces_the_content_whole() {
        let dir = std::env::temp_dir().join(format!("chaosdeck-durable-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("j.json");
        let mut f = DurableFile::new(path.clone());
        for text in ["first, long text", "second", "third and longest of all"] {
            f.write(text.as_bytes(), false).unwrap();
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        }
        f.close();
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "only the file itself remains");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn links_are_followed_and_devices_written_through() {
        let dir = std::env::temp_dir().join(format!("chaosdeck-durable-l-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let real = dir.join("real.json");
        std::fs::write(&real, "old").unwrap();
        let link = dir.join("link.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let mut f = DurableFile::new(link.clone());
        f.write(b"new", false).unwrap();
        f.write(b"newer", false).unwrap();
        f.close();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "newer");
        // A pipe stands for a device such as /dev/null: it is written through, not replaced.
        let fifo = dir.join("pipe");
        let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: mkfifo only reads the NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        let mut pipe = DurableFile::new(fifo.clone());
        pipe.write(b"through", false).unwrap();
        drop(pipe);
        assert_eq!(reader.join().unwrap(), "through");
        use std::os::unix::fs::FileTypeExt;
        let meta = std::fs::symlink_metadata(&fifo).unwrap();
        assert!(meta.file_type().is_fifo(), "the pipe is still a pipe");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
