//! The demo image, built by the running binary itself through the engine's build API, offline:
//! `FROM scratch` with this very executable at `/bin/chaosdeck` and the shared libraries `ldd`
//! says it loads, at their paths. No repository, compiler or registry is needed, and the
//! containers run exactly the code that starts them. The image is labelled with the binary's
//! fingerprint and built again when the binary changes.

use super::tar::{Source, TarWriter};
use bollard::query_parameters::{BuildImageOptionsBuilder, RemoveImageOptionsBuilder};
use bollard::Docker;
use futures_util::StreamExt;
use std::path::{Path, PathBuf};

/// The image `chaosdeck demo` builds and runs.
pub const IMAGE: &str = "chaosdeck-demo:bin";
/// The label holding the fingerprint of the binary inside.
const FINGERPRINT_LABEL: &str = "dev.chaosdeck.demo.binary";
/// Bytes read from the context file per chunk sent to the engine.
const CHUNK: usize = 1 << 20;

/// The running executable and what identifies this build of it.
struct Binary {
    path: PathBuf,
    fingerprint: String,
}

fn this_binary() -> Result<Binary, String> {
    let path =
        std::env::current_exe().map_err(|e| format!("cannot find the running executable: {e}"))?;
    let meta =
        std::fs::metadata(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let fingerprint = format!("{}-{}-{modified}", env!("CARGO_PKG_VERSION"), meta.len());
    Ok(Binary { path, fingerprint })
}

/// Makes sure [`IMAGE`] holds this binary; builds it when missing or older. Returns whether it
/// built. `progress` hears one line before a build starts.
pub async fn ensure(
    docker: &Docker,
    work_dir: &Path,
    progress: impl Fn(&str),
) -> Result<bool, String> {
    let binary = this_binary()?;
    let existing = docker.inspect_image(IMAGE).await.ok();
    let current = existing
        .as_ref()
        .and_then(|i| i.config.as_ref())
        .and_then(|c| c.labels.as_ref())
        .and_then(|l| l.get(FINGERPRINT_LABEL));
    if current == Some(&binary.fingerprint) {
        return Ok(false);
    }
    progress(&format!(
        "building the image {IMAGE} from {} (offline, once per build of chaosdeck)",
        binary.path.display()
    ));
    let context = work_dir.join("image-context.tar");
    let written = {
        let (path, exe, fp) = (
            context.clone(),
            binary.path.clone(),
            binary.fingerprint.clone(),
        );
        tokio::task::spawn_blocking(move || write_context(&path, &exe, &fp))
            .await
            .map_err(|e| format!("preparing the image's files stopped: {e}"))?
    };
    let built = match written {
        Ok(()) => build(docker, &context).await,
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_file(&context);
    built?;
    // The image this one replaced is ours (it had our label); drop it unless a container uses it.
    if let Some(old) = existing.and_then(|i| i.id) {
        let options = RemoveImageOptionsBuilder::default().build();
        let _ = docker.remove_image(&old, Some(options), None).await;
    }
    Ok(true)
}

/// Sends the context to the engine's build API and follows its output to the end.
async fn build(docker: &Docker, context: &Path) -> Result<(), String> {
    let file = tokio::fs::File::open(context)
        .await
        .map_err(|e| format!("cannot read {}: {e}", context.display()))?;
    let body = futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(bytes::Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    let options = BuildImageOptionsBuilder::default()
        .t(IMAGE)
        .rm(true)
        .forcerm(true)
        .build();
    let mut output = docker.build_image(options, None, Some(bollard::body_try_stream(body)));
    let mut last = String::new();
    while let Some(item) = output.next().await {
        match item {
            Ok(info) => {
                if let Some(detail) = info.error_detail.and_then(|d| d.message) {
                    return Err(format!("building {IMAGE} failed: {detail}"));
                }
                if let Some(line) = info.stream.filter(|s| !s.trim().is_empty()) {
                    last = line.trim().to_string();
                }
            }
            Err(e) => return Err(format!("building {IMAGE} failed: {e} (last step: {last})")),
        }
    }
    Ok(())
}

/// The build context: a Dockerfile and `root/` holding the binary, its libraries and the few
/// files name resolution reads.
fn write_context(path: &Path, exe: &Path, fingerprint: &str) -> Result<(), String> {
    let fail =
        |e: std::io::Error| format!("cannot write the image's files to {}: {e}", path.display());
    let file = std::fs::File::create(path).map_err(fail)?;
    let mut tar = TarWriter::new(std::io::BufWriter::new(file));
    let dockerfile = format!(
        "FROM scratch\n\
         COPY root/ /\n\
         ENV PATH=/bin\n\
         LABEL {FINGERPRINT_LABEL}=\"{fingerprint}\" \\\n      \
         org.opencontainers.image.title=\"chaosdeck demo\"\n\
         STOPSIGNAL SIGTERM\n\
         CMD [\"/bin/chaosdeck\", \"demo-service\", \"api\", \"--listen\", \"0.0.0.0:8000\"]\n"
    );
    tar.append("Dockerfile", 0o644, Source::Bytes(dockerfile.as_bytes()))
        .map_err(fail)?;
    tar.append("root/bin/chaosdeck", 0o755, Source::File(exe))
        .map_err(fail)?;
    for lib in libraries(exe)? {
        let real = std::fs::canonicalize(&lib).map_err(fail)?;
        let name = format!("root{}", lib.display());
        tar.append(&name, 0o755, Source::File(&real))
            .map_err(fail)?;
    }
    let etc: [(&str, &[u8]); 2] = [
        ("root/etc/nsswitch.conf", b"hosts: files dns\n"),
        (
            "root/etc/passwd",
            b"root:x:0:0:root:/:/bin/false\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        ),
    ];
    for (name, text) in etc {
        tar.append(name, 0o644, Source::Bytes(text)).map_err(fail)?;
    }
    tar.finish().map_err(fail)?;
    Ok(())
}

/// The shared libraries (the dynamic loader included) `ldd` lists for `exe`, at the paths it
/// printed; none for a static executable.
fn libraries(exe: &Path) -> Result<Vec<PathBuf>, String> {
    let out = std::process::Command::new("ldd")
        .arg(exe)
        .output()
        .map_err(|e| {
            format!(
                "cannot run ldd to find the libraries of {}: {e}",
                exe.display()
            )
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        // "not a dynamic executable": a static build needs nothing more.
        return Ok(Vec::new());
    }
    Ok(parse_ldd(&text))
}

/// Lines look like `libm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x…)`, or for the loader
/// `/lib64/ld-linux-x86-64.so.2 (0x…)`; the vDSO has no file.
fn parse_ldd(text: &str) -> Vec<PathBuf> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [_, "=>", path, ..] if path.starts_with('/') => Some(PathBuf::from(path)),
                [path, ..] if path.starts_with('/') => Some(PathBuf::from(path)),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_output_gives_the_library_paths() {
        let text = "\tlinux-vdso.so.1 (0x00007ffd)\n\
                    \tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f)\n\
                    \tlibgone.so => not found\n\
                    \t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n";
        assert_eq!(
            parse_ldd(text),
            vec![
                PathBuf::from("/lib/x86_64-linux-gnu/libm.so.6"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2")
            ]
        );
    }
}
