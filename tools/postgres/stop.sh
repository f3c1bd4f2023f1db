#!/usr/bin/env bash
# Stops the cluster started by start.sh and deletes its directory: stop.sh <directory>
set -euo pipefail
cd "$(dirname "$0")/../.."
exec ./node_modules/.bin/node tools/postgres/postgres-cluster.ts stop "$1"
