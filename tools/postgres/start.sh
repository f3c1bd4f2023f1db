#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster (unix socket only, fsync on) in a fresh temp dir with an empty
# database `milagro`, and prints one JSON line: {"url":…,"directory":…,"pid":…}. Stop it with stop.sh <directory>.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec ./node_modules/.bin/node tools/postgres/postgres-cluster.ts start
