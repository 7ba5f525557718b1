#!/usr/bin/env bash
# System packages fiscalocr needs. The single source of truth for README, .ci/run and the Dockerfile.
#   --runtime : only what the service needs at run time (Docker final stage)
#   --build   : runtime + headers to build tesserocr from source if no wheel fits (Docker build stage)
#   (default) : build + what the tests need: the CJK fonts of the test corpus, qpdf, and the PostgreSQL and
#               Redis servers the tests run against (scripts/start-services.sh starts them)
# poppler-data holds the CJK character-collection maps (Adobe-GB1 ...): without it poppler cannot render a
# digital report whose Chinese fonts are not embedded ("Missing language pack for 'Adobe-GB1' mapping").
set -euo pipefail
mode="${1:-full}"
# fonts-wqy-zenhei is a runtime font: the annotated report PDF (service/report.py) embeds it. chromium is
# the browser the review-page tests drive (Playwright with executable_path; no browser download).
runtime_pkgs=(tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng poppler-utils poppler-data fonts-noto-cjk
              fonts-wqy-zenhei libgl1 libglib2.0-0 ca-certificates)
build_pkgs=(libtesseract-dev libleptonica-dev pkg-config)
test_pkgs=(fonts-arphic-ukai fonts-arphic-uming qpdf postgresql redis-server chromium)
pkgs=("${runtime_pkgs[@]}")
[ "$mode" = "--runtime" ] || pkgs+=("${build_pkgs[@]}")
[ "$mode" = "--runtime" ] || [ "$mode" = "--build" ] || pkgs+=("${test_pkgs[@]}")

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
