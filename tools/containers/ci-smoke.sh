#!/usr/bin/env bash
# For CI: builds every server image (apps/*/Dockerfile) and proves each starts, answers /healthz,
# passes its HEALTHCHECK and runs as non-root (tools/containers/smoke.sh, which runs
# ../shared/tools/container-smoke.sh per image). Prints each image's time and size and the total;
# exits 1 if any image fails, 2 if the tools it needs are missing. Images share the build stage, so
# the first one pays for `npm ci` and the build and the others mostly reuse its layers.
# Usage: tools/containers/ci-smoke.sh   (env as smoke.sh: WORK, CONTEXT, NODE_BIN, CONTAINER_SMOKE)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
smoke=${CONTAINER_SMOKE:-$root/../shared/tools/container-smoke.sh}
[ -f "$smoke" ] || { echo "ci-smoke: no container smoke script at $smoke (set CONTAINER_SMOKE)" >&2; exit 2; }
apps=()
for dockerfile in "$root"/apps/*/Dockerfile; do apps+=("$(basename "$(dirname "$dockerfile")")"); done
[ ${#apps[@]} -gt 0 ] || { echo "ci-smoke: no apps/*/Dockerfile" >&2; exit 2; }

started=$(date +%s)
echo "[ci-smoke] images: ${apps[*]}"
failed=()
for app in "${apps[@]}"; do
  bash "$root/tools/containers/smoke.sh" "$app" || failed+=("$app")
done
total=$(( $(date +%s) - started ))
if [ ${#failed[@]} -gt 0 ]; then
  echo "[ci-smoke] FAILED: ${failed[*]} (of ${#apps[@]} images, ${total} s)"
  exit 1
fi
echo "[ci-smoke] all ${#apps[@]} images passed in ${total} s"
