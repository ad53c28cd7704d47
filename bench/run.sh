#!/usr/bin/env bash
# Runs every benchmark and prints its numbers. Nothing here is asserted: budgets live in the
# issues, and the closing notes quote these outputs.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
bash "$here/bundle_size.sh"
bash "$here/page_weight.sh"
bash "$here/signin_load.sh"
