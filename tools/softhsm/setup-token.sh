#!/usr/bin/env sh
# Create (or reuse) a SoftHSM2 token for tests and local development, inside a directory of its own.
#
#   eval "$(tools/softhsm/setup-token.sh /tmp/milagro-hsm)"
#
# The directory gets its own softhsm2.conf and token store, so nothing touches /etc/softhsm or
# /var/lib/softhsm. Idempotent: a second run with the same directory and label reuses the token.
# The user PIN is written to <dir>/user-pin (mode 0600) and never passed on a command line: the
# store reads it from the file named by MILAGRO_PKCS11_PIN_FILE. softhsm2-util itself only accepts
# PINs as arguments, so this script is for test tokens only; see docs/guides/hsm.md for production.
#
# Environment (all optional):
#   SOFTHSM2_MODULE         PKCS#11 module (default /usr/lib/softhsm/libsofthsm2.so)
#   MILAGRO_HSM_TOKEN_LABEL token label (default milagro-test)
set -eu

dir=${1:?usage: setup-token.sh <directory>}
module=${SOFTHSM2_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
label=${MILAGRO_HSM_TOKEN_LABEL:-milagro-test}

if [ ! -f "$module" ]; then
  echo "setup-token.sh: PKCS#11 module not found at $module (install softhsm2)" >&2
  exit 2
fi
command -v softhsm2-util >/dev/null 2>&1 || { echo "setup-token.sh: softhsm2-util not found (install softhsm2)" >&2; exit 2; }

umask 077
mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
conf="$dir/softhsm2.conf"
if [ ! -f "$conf" ]; then
  cat >"$conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
fi
export SOFTHSM2_CONF="$conf"

random_pin() { od -An -N12 -tx1 /dev/urandom | tr -d ' \n'; }

if ! softhsm2-util --show-slots 2>/dev/null | grep -Eq "Label:[[:space:]]*$label[[:space:]]*$"; then
  [ -f "$dir/user-pin" ] || random_pin >"$dir/user-pin"
  [ -f "$dir/so-pin" ] || random_pin >"$dir/so-pin"
  chmod 600 "$dir/user-pin" "$dir/so-pin"
  softhsm2-util --init-token --free --label "$label" \
    --so-pin "$(cat "$dir/so-pin")" --pin "$(cat "$dir/user-pin")" >/dev/null
fi

echo "export SOFTHSM2_CONF='$conf'"
echo "export MILAGRO_PKCS11_MODULE='$module'"
echo "export MILAGRO_PKCS11_TOKEN_LABEL='$label'"
echo "export MILAGRO_PKCS11_PIN_FILE='$dir/user-pin'"
