#!/usr/bin/env bash
# System packages fiscalocr needs. The single source of truth for README, .ci/run and the Dockerfile.
#   --runtime : only what the service needs at run time (Docker final stage)
#   (default) : runtime + build/test extras (CJK fonts for the test corpus, headers for tesserocr)
set -euo pipefail
mode="${1:-full}"
runtime_pkgs=(tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng poppler-utils fonts-noto-cjk
              fonts-wqy-zenhei libgl1 libglib2.0-0 ca-certificates)
extra_pkgs=(chromium fonts-arphic-ukai fonts-arphic-uming libtesseract-dev libleptonica-dev
            pkg-config qpdf)
pkgs=("${runtime_pkgs[@]}")
[ "$mode" = "--runtime" ] || pkgs+=("${extra_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "system packages: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
