#!/usr/bin/env bash
# Install the Debian packages the project needs, only those missing: Python's venv, PostgreSQL 15 server
# binaries (tests), Chromium and its driver (PNG export, browser tests), Noto CJK fonts (Chinese text), and
# LibreOffice's Writer and Impress without a GUI plus poppler-utils (the work report's tests convert the
# .docx/.pptx to PDF with `soffice --headless` and read it with pdftotext / pdftoppm), Redis (the job queue of a
# shared deployment) and nginx (the deployment test puts it in front of the app, as the README deploys it).
set -euo pipefail
packages=(python3-venv postgresql-15 chromium chromium-driver fonts-noto-cjk sqlite3
  libreoffice-writer-nogui libreoffice-impress-nogui poppler-utils redis-server nginx)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing system packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  echo "Need root to install: ${missing[*]} (apt-get install -y --no-install-recommends ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
