#!/usr/bin/env bash
# Stops the daemon started by start.sh and deletes its repo: stop.sh <repo>
set -euo pipefail
cd "$(dirname "$0")/../.."
exec ./node_modules/.bin/node tools/kubo/kubo-daemon.ts stop "$1"
