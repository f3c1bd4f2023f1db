#!/usr/bin/env bash
# Builds each server image and proves it starts, answers /healthz, passes its HEALTHCHECK and does not
# run as root: ../shared/tools/container-smoke.sh per image, one after the other (podman, no Docker
# engine, no registry pull; the first run debootstraps the stand-in base image into $WORK).
# Usage: tools/containers/smoke.sh [app ...]   (default: every apps/<app>/Dockerfile: dta-server,
#        mfa-server, milagro, and custody-server once it has one)
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
if [ ${#apps[@]} -eq 0 ]; then
  for dockerfile in "$root"/apps/*/Dockerfile; do apps+=("$(basename "$(dirname "$dockerfile")")"); done
fi

log() { printf '[containers %(%T)T] %s\n' -1 "$*"; }
failed=()
for app in "${apps[@]}"; do
  # localhost/milagro-dta, -mfa, -custody; the all-in-one image is localhost/milagro.
  if [ "$app" = milagro ]; then image=localhost/milagro:smoke; else image=localhost/milagro-${app%-server}:smoke; fi
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
