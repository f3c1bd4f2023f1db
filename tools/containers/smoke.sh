#!/usr/bin/env bash
# Builds each server image and proves it starts, answers /healthz, passes its HEALTHCHECK and does not
# run as root: ../shared/tools/container-smoke.sh per image, one after the other (podman, no Docker
# engine, no registry pull; the first run debootstraps the stand-in base image into $WORK).
# Usage: tools/containers/smoke.sh [app ...]   (default: dta-server mfa-server)
# Env: WORK (podman storage, default /tmp/oci-smoke), CONTEXT (build context, default the repository),
#      NODE_BIN (Node 24 for the base image, default the project's), CONTAINER_SMOKE (the script).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
smoke=${CONTAINER_SMOKE:-$root/../shared/tools/container-smoke.sh}
export WORK=${WORK:-/tmp/oci-smoke} PORT=8080 HEALTH_PATH=/healthz
NODE_BIN=${NODE_BIN:-$root/node_modules/node/bin/node}
[ -x "$NODE_BIN" ] || NODE_BIN=$(command -v node)
export NODE_BIN
context=${CONTEXT:-$root}
apps=("$@")
[ ${#apps[@]} -gt 0 ] || apps=(dta-server mfa-server)

log() { printf '[containers %(%T)T] %s\n' -1 "$*"; }
failed=()
for app in "${apps[@]}"; do
  image=localhost/milagro-${app%-server}:smoke
  started=$(date +%s)
  log "$app: $image"
  if IMAGE=$image DOCKERFILE=apps/$app/Dockerfile bash "$smoke" "$context"; then
    size=$(CONTAINERS_STORAGE_CONF=$WORK/storage.conf CONTAINERS_CONF=$WORK/containers.conf podman image inspect "$image" --format '{{.Size}}')
    log "$app: passed in $(( $(date +%s) - started )) s, image $(( size / 1000000 )) MB"
  else
    log "$app: FAILED after $(( $(date +%s) - started )) s"
    failed+=("$app")
  fi
done
[ ${#failed[@]} -eq 0 ] || { log "failed: ${failed[*]}"; exit 1; }
