#!/usr/bin/env bash
# Install Hugo from Debian's package (0.111 on bookworm) for the benchmark's side by side; safe to
# run again.  Run as root: `bash benchmarks/install-hugo.sh`.  `python -m benchmarks` runs it
# itself when `hugo` is missing and it is root (else it skips the Hugo column and says so).
set -euo pipefail

if ! command -v hugo >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    # Refresh the package lists only when the package cannot be found in them.
    if ! apt-get install -y --no-install-recommends hugo; then
        apt-get update
        apt-get install -y --no-install-recommends hugo
    fi
fi
hugo version
