#!/bin/sh
# The README's first command: installs every dependency, builds wgu, and runs
# the main job.  Until the telemetry pipeline exists (issue #5) the main job
# shows wgu's version and a freshly generated key pair, checked against the
# standard `wg` tool.  Run as root on Debian 12.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./scripts/install-deps.sh
./scripts/build.sh build
wgu=build/src/wgu
echo
"$wgu" --version
umask 077
priv=$("$wgu" genkey)
pub=$(printf '%s\n' "$priv" | "$wgu" pubkey)
echo "private key: $priv   (a throwaway demo key)"
echo "public key:  $pub"
if command -v wg >/dev/null; then
	if [ "$(printf '%s\n' "$priv" | wg pubkey)" = "$pub" ]; then
		echo "wg pubkey agrees with wgu pubkey"
	else
		echo "wg pubkey DISAGREES with wgu pubkey" >&2
		exit 1
	fi
fi
