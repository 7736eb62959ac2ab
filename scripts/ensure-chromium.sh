#!/usr/bin/env bash
# The explorer page's browser test (test/integration/explorer-ui.test.ts) drives Debian's
# chromium through puppeteer-core (no browser download from the internet). Installs it with
# apt-get when it is missing and this user may (root); otherwise says how, and the test will
# fail naming the fix. CHROMIUM_PATH points at another Chromium/Chrome binary.
set -uo pipefail
if [[ -n ${CHROMIUM_PATH:-} && -x ${CHROMIUM_PATH} ]] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: installing Debian's chromium (once)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends chromium >/dev/null; } || echo "ensure-chromium: apt-get install chromium failed; the browser test will fail" >&2
else
  echo "ensure-chromium: chromium is missing; install it (sudo apt-get install chromium) or set CHROMIUM_PATH; the browser test will fail until then" >&2
fi
exit 0
