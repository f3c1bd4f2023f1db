#!/usr/bin/env bash
# Builds the pinned Kubo (go-ipfs) daemon from source into a cache directory and prints the binary path.
#
#   tools/kubo/install.sh            # -> $HOME/.cache/milagro/kubo-v0.43.1/ipfs
#   MILAGRO_KUBO_DIR=/opt/kubo tools/kubo/install.sh
#
# Why from source: Kubo's npm packages download release archives from GitHub at install time, which
# fails on offline/locked-down CI runners; the Go module proxy works everywhere Go does.
# Why not plain `go install …@v0.43.1`: Kubo's go.mod carries a `replace` directive, which `go install
# pkg@version` refuses, so we download the module and build it as the main module instead (see below).
set -euo pipefail

KUBO_VERSION="${KUBO_VERSION:-v0.43.1}"
CACHE_DIR="${MILAGRO_KUBO_DIR:-${HOME}/.cache/milagro/kubo-${KUBO_VERSION}}"
BIN="${CACHE_DIR}/ipfs"

if [[ -x "${BIN}" ]] && "${BIN}" version --number >/dev/null 2>&1; then
  echo "${BIN}"
  exit 0
fi

command -v go >/dev/null 2>&1 || { echo "install.sh: Go is required (https://go.dev/dl/)" >&2; exit 1; }
mkdir -p "${CACHE_DIR}"

# `go mod download -json` prints the extracted (read-only) module directory.
MOD_DIR="$(go mod download -json "github.com/ipfs/kubo@${KUBO_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -n "${MOD_DIR}" && -d "${MOD_DIR}" ]] || { echo "install.sh: could not download kubo ${KUBO_VERSION}" >&2; exit 1; }

# Kubo v0.43.1 replaces go-libp2p with a personal fork commit (to get quic-go v0.62) that the Go module
# proxy does not serve (403). go-libp2p v0.50.0 is the upstream release carrying exactly that quic-go /
# webtransport-go bump (the condition in Kubo's own TODO for dropping the replace), so we build a copy
# of the module with the replace swapped for that release. Everything else is Kubo's pinned go.sum.
BUILD_DIR="$(mktemp -d)"
trap 'chmod -R u+w "${BUILD_DIR}" 2>/dev/null; rm -rf "${BUILD_DIR}"' EXIT
cp -R "${MOD_DIR}/." "${BUILD_DIR}/"
chmod -R u+w "${BUILD_DIR}"
(
  cd "${BUILD_DIR}"
  go mod edit -dropreplace=github.com/libp2p/go-libp2p -require=github.com/libp2p/go-libp2p@v0.50.0
  GOFLAGS="${GOFLAGS:-} -mod=mod" go build -trimpath -o "${BIN}.tmp" ./cmd/ipfs
) >&2
mv "${BIN}.tmp" "${BIN}"
"${BIN}" version --number >&2
echo "${BIN}"
