#!/usr/bin/env bash
# Regenerates docs/screenshots/: the console's main pages at 1280 and 375 px, taken by the
# browser tests (browser.rs, browser_staff.rs) as they walk through them (needs chromium and
# chromium-driver).
set -euo pipefail
cd "$(dirname "$0")/.."
# Without a CJK font Chromium draws every Chinese character as a box.
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  apt-get install -y -qq fonts-noto-cjk >/dev/null
fi
mkdir -p docs/screenshots
# "browser" matches every browser test file (browser::, browser_dashboard::, …).
QIFU_SCREENSHOTS="$PWD/docs/screenshots" QIFU_REQUIRE_BROWSER=1 \
  cargo test --test api browser -- --nocapture
# The dashboard's A4 print, page by page (poppler-utils' pdftoppm).
if [ -f docs/screenshots/dashboard-print.pdf ]; then
  command -v pdftoppm >/dev/null || apt-get install -y -qq poppler-utils >/dev/null
  rm -f docs/screenshots/dashboard-print-*.png
  pdftoppm -r 60 -png docs/screenshots/dashboard-print.pdf docs/screenshots/dashboard-print
  rm docs/screenshots/dashboard-print.pdf
fi
ls docs/screenshots
