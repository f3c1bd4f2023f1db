#!/bin/sh
# Entry point of the server images: supplies the secrets the operator left unset, then runs the command
# (`node apps/<app>/dist/main.js`) as PID 1 so SIGTERM reaches the server.
#
# Every variable named in MILAGRO_GENERATED_SECRETS that is unset or empty gets a random value, made once
# into $MILAGRO_DATA_DIR/secrets/<NAME> (mode 0600) and reused on every start. That lets a container start
# with `run -v data:/data` alone, but a key store whose passphrase lies on its own volume protects nothing:
# in production set the variables (or point the config at secret files) and set MILAGRO_GENERATED_SECRETS=
# to empty, so that a missing secret stops the server instead.
set -eu
secrets_dir="${MILAGRO_DATA_DIR:-/data}/secrets"
for name in ${MILAGRO_GENERATED_SECRETS:-}; do
  case "$name" in
    '' | [0-9]* | *[!A-Za-z0-9_]*) echo "milagro-entrypoint: '$name' in MILAGRO_GENERATED_SECRETS is not a variable name" >&2; exit 64 ;;
  esac
  eval "value=\${$name:-}"
  [ -z "$value" ] || continue
  file="$secrets_dir/$name"
  if [ ! -s "$file" ]; then
    (umask 077 && mkdir -p "$secrets_dir" && head -c 32 /dev/urandom | base64 | tr -d '\n=' >"$file")
  fi
  echo "milagro-entrypoint: $name is not set; using the generated one in $file (set it for production)" >&2
  export "$name=$(cat "$file")"
done
unset value
exec "$@"
