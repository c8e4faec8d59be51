#!/bin/sh
# System packages the test suite needs: Debian's Chromium, which the end-to-end tests drive
# through Playwright (Playwright cannot download its own browser on these machines).
# Does nothing when a Chromium is already there. Run as root, or with sudo available.
set -eu
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-system-deps: no apt-get here; install Chromium yourself and set SOVSIM_CHROMIUM to its path" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || {
    $SUDO apt-get update -q >/dev/null
    $SUDO apt-get install -y --no-install-recommends chromium >/dev/null
}
command -v chromium >/dev/null 2>&1
