#!/usr/bin/env bash
# Builds chaosdeck's container images offline, from files on this machine only (no registry is
# reached: every image starts FROM scratch). Used by the tests and by `chaosdeck demo`.
#
#   scripts/build-images.sh [IMAGE...]     IMAGE: busybox (default: all)
#
# busybox  chaosdeck-busybox:local  a static busybox (Debian's busybox-static): sh and the usual
#                                   tools, for test containers that only need to run and stop
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

images=("$@")
[ "${#images[@]}" -gt 0 ] || images=(busybox)
for image in "${images[@]}"; do
  case "$image" in
    busybox) build_busybox ;;
    *) echo "error: unknown image '$image' (busybox)" >&2; exit 2 ;;
  esac
done
