#!/bin/sh
# Re-renders the committed PNG icons from batchscope.svg (Debian: librsvg2-bin).
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu
cd "$(dirname "$0")"
for size in 16 32 48 64 128 256; do
    rsvg-convert -w "$size" -h "$size" batchscope.svg -o "batchscope-$size.png"
done
