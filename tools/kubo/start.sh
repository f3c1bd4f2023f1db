#!/usr/bin/env bash
# Starts a loopback-only Kubo daemon (test profile, pubsub on, no bootstrap) on a fresh temp repo and
# prints one JSON line: {"apiUrl":…,"repo":…,"pid":…,"peerId":…,"swarm":[…]}. Stop it with stop.sh <repo>.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec ./node_modules/.bin/node tools/kubo/kubo-daemon.ts start
