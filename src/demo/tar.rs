//! A minimal ustar writer for the build context of the demo image: regular files only, written
//! to a file so the context can be streamed to the engine without holding it in memory.

use std::io::{self, Read, Write};
use std::path::Path;

const BLOCK: usize = 512;

/// One file of the archive: its path inside the archive, its mode, and where its bytes come from.
pub enum Source<'a> {
    Bytes(&'a [u8]),
    File(&'a Path),
}

/// Writes archives entry by entry.
pub struct TarWriter<W: Write> {
    out: W,
}

impl<W: Write> TarWriter<W> {
    pub fn new(out: W) -> Self {
        TarWriter { out }
    }

    /// Appends a regular file named `name` (relative, `/`-separated).
    pub fn append(&mut self, name: &str, mode: u32, source: Source<'_>) -> io::Result<()> {
        let size = match &source {
            Source::Bytes(b) => b.len() as u64,
            Source::File(p) => std::fs::metadata(p)?.len(),
        };
        self.out.write_all(&header(name, mode, size)?)?;
        let written = match source {
            Source::Bytes(b) => {
                self.out.write_all(b)?;
                b.len() as u64
            }
            Source::File(p) => io::copy(&mut std::fs::File::open(p)?.take(size), &mut self.out)?,
        };
        if written != size {
            return Err(io::Error::other(format!(
                "{name} changed while it was read"
            )));
        }
        let pad = (BLOCK - (size as usize % BLOCK)) % BLOCK;
        self.out.write_all(&vec![0; pad])
    }

    /// Writes the end-of-archive marker and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&[0; 2 * BLOCK])?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The 512-byte ustar header of a regular file; long names go into the prefix field.
fn header(name: &str, mode: u32, size: u64) -> io::Result<[u8; BLOCK]> {
    let mut h = [0u8; BLOCK];
    let (prefix, base) = split_name(name)
        .ok_or_else(|| io::Error::other(format!("{name}: path too long for a tar header")))?;
    h[..base.len()].copy_from_slice(base.as_bytes());
    octal(&mut h[100..108], u64::from(mode));
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], 0);
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let text = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(text.as_bytes());
    Ok(h)
}

/// `name` as (prefix, name) fitting the header's 155 and 100 bytes.
fn split_name(name: &str) -> Option<(&str, &str)> {
    if name.len() <= 100 {
        return Some(("", name));
    }
    name.char_indices()
        .filter(|&(_, c)| c == '/')
        .map(|(i, _)| (&name[..i], &name[i + 1..]))
        .find(|(prefix, base)| prefix.len() <= 155 && base.len() <= 100 && !base.is_empty())
}

/// Writes `value` as zero-padded octal followed by a NUL, filling `field`.
fn octal(field: &mut [u8], value: u64) {
    let text = format!("{value:0width$o}\0", width = field.len() - 1);
    field.copy_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_archive_that_tar_reads_back() {
        let dir = std::env::temp_dir().join(format!("chaosdeck-tar-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let long = format!("root/{}/file.txt", "d".repeat(120));
        let mut w = TarWriter::new(std::fs::File::create(dir.join("a.tar")).unwrap());
        w.append("root/bin/hello", 0o755, Source::Bytes(b"hi\n"))
            .unwrap();
        w.append(&long, 0o644, Source::Bytes(&[7u8; 1000])).unwrap();
        w.finish().unwrap();
        let out = std::process::Command::new("tar")
            .args(["-tvf", "a.tar"])
            .current_dir(&dir)
            .output()
            .expect("run tar");
        let listing = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{out:?}");
        assert!(listing.contains("root/bin/hello"), "{listing}");
        assert!(listing.contains("rwxr-xr-x"), "{listing}");
        assert!(listing.contains(&long), "{listing}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_name_with_no_place_to_split_is_refused() {
        assert!(header(&"x".repeat(300), 0o644, 0).is_err());
    }
}
