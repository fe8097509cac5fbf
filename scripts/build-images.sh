#!/usr/bin/env bash
# Builds chaosdeck's container images offline, from files on this machine only (no registry is
# reached: every image starts FROM scratch). Used by the tests and by `chaosdeck demo`.
#
#   scripts/build-images.sh [IMAGE...]     IMAGE: busybox, demo (default: all)
#
# busybox  chaosdeck-busybox:local  a static busybox (Debian's busybox-static): sh and the usual
#                                   tools, for test containers that only need to run and stop
# demo     chaosdeck-demo:local     the demo system (`chaosdeck demo-service api|database|cache`):
#                                   chaosdeck built statically, busybox for `sh`, and the real
#                                   stress-ng with every library it links, at the same paths
#
# The static chaosdeck is built with its own target directory (CHAOSDECK_STATIC_TARGET_DIR,
# default target/static), so it never invalidates the usual build, in the profile named by
# CHAOSDECK_STATIC_PROFILE (default release; the tests use dev, which builds much faster).
set -euo pipefail
cd "$(dirname "$0")/.."

need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    echo "error: $1 is missing; install the Debian package $2" >&2
    exit 1
  fi
}

build_busybox() {
  need busybox busybox-static
  local ctx
  ctx=$(mktemp -d)
  cp "$(readlink -f "$(command -v busybox)")" "$ctx/busybox"
  cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
CMD ["sh"]
DOCKERFILE
  docker build -q -t chaosdeck-busybox:local "$ctx" >/dev/null
  rm -rf "$ctx"
  echo "built chaosdeck-busybox:local"
}

# Copies an executable and everything `ldd` says it loads (the dynamic loader included) into the
# root $1, each at the path ldd printed, following symlinks so the image holds real files.
copy_with_libraries() {
  local root=$1 exe=$2 lib
  mkdir -p "$root$(dirname "$exe")"
  cp -L "$exe" "$root$exe"
  # Lines look like `libm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x...)` or, for the loader,
  # `/lib64/ld-linux-x86-64.so.2 (0x...)`; linux-vdso has no file.
  for lib in $(ldd "$exe" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

build_demo() {
  need busybox busybox-static
  need stress-ng stress-ng
  local target_dir=${CHAOSDECK_STATIC_TARGET_DIR:-target/static}
  local triple=x86_64-unknown-linux-gnu
  echo "building chaosdeck statically in $target_dir (this takes a while the first time)" >&2
  local profile=${CHAOSDECK_STATIC_PROFILE:-release}
  local out_dir=$profile
  [ "$profile" = dev ] && out_dir=debug
  RUSTFLAGS="-C target-feature=+crt-static" CARGO_TARGET_DIR="$target_dir" \
    cargo build --profile "$profile" --quiet --target "$triple" --bin chaosdeck
  local bin="$target_dir/$triple/$out_dir/chaosdeck"
  if ldd "$bin" >/dev/null 2>&1 && ! ldd "$bin" 2>&1 | grep -q 'statically linked'; then
    echo "error: $bin is dynamically linked; it cannot run FROM scratch" >&2
    exit 1
  fi
  local ctx
  ctx=$(mktemp -d)
  mkdir -p "$ctx/root/bin" "$ctx/root/etc" "$ctx/root/tmp"
  chmod 1777 "$ctx/root/tmp"
  cp "$bin" "$ctx/root/bin/chaosdeck"
  strip "$ctx/root/bin/chaosdeck" 2>/dev/null || true
  cp "$(readlink -f "$(command -v busybox)")" "$ctx/root/bin/busybox"
  copy_with_libraries "$ctx/root" "$(readlink -f "$(command -v stress-ng)")"
  # Docker mounts /etc/hosts and /etc/resolv.conf; say how to use them.
  printf 'hosts: files dns\n' >"$ctx/root/etc/nsswitch.conf"
  printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' \
    >"$ctx/root/etc/passwd"
  cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY root/ /
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin:/usr/bin
LABEL org.opencontainers.image.title="chaosdeck demo" \
      org.opencontainers.image.description="chaosdeck's demo API, database and cache stand-ins"
STOPSIGNAL SIGTERM
CMD ["/bin/chaosdeck", "demo-service", "api", "--listen", "0.0.0.0:8000"]
DOCKERFILE
  docker build -q -t chaosdeck-demo:local "$ctx" >/dev/null
  rm -rf "$ctx"
  # The image must really hold what it promises: the service, a shell, a working stress-ng.
  docker run --rm chaosdeck-demo:local sh -c \
    'chaosdeck --version && stress-ng --version && stress-ng --cpu 1 --timeout 1s --quiet' \
    >/dev/null || { echo "error: chaosdeck-demo:local does not work" >&2; exit 1; }
  echo "built chaosdeck-demo:local"
}

images=("$@")
[ "${#images[@]}" -gt 0 ] || images=(busybox demo)
for image in "${images[@]}"; do
  case "$image" in
    busybox) build_busybox ;;
    demo) build_demo ;;
    *) echo "error: unknown image '$image' (busybox, demo)" >&2; exit 2 ;;
  esac
done
