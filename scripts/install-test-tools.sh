#!/usr/bin/env bash
# Install the tools the browser and HTML-validation tests need; safe to run again.
#
#   - Debian's chromium (headless browser for tests marked `browser`)
#   - Debian's postgresql (a real server for the state-store tests, which start their own in a
#     temporary folder as an unprivileged user; the Debian cluster it creates is not used)
#   - the W3C Nu HTML checker, as the npm package vnu-jar, under .tools/ in the repository
#     (the jar ends up at .tools/node_modules/vnu-jar/build/dist/vnu.jar; it runs on the
#     machine's Java)
#
# Run as root from anywhere: `bash scripts/install-test-tools.sh`.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vnu_jar="$repo/.tools/node_modules/vnu-jar/build/dist/vnu.jar"

apt_install() {
    # Refresh the package lists only when a package cannot be found in them.
    if ! apt-get install -y --no-install-recommends "$@"; then
        apt-get update
        apt-get install -y --no-install-recommends "$@"
    fi
}

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
command -v npm >/dev/null 2>&1 || missing+=(npm)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if ((${#missing[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt_install "${missing[@]}"
fi

if [[ ! -f "$vnu_jar" ]]; then
    npm install --no-audit --no-fund --prefix "$repo/.tools" vnu-jar
fi

# The tests run their own server: the one the package may have started is not needed.
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
chromium --version
"$pg_bin/postgres" --version
java -version 2>&1 | head -n 1
echo "vnu.jar: $vnu_jar"
