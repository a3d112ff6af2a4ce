#!/usr/bin/env bash
# The project's linters over its sources, run by `npm run lint` and by .ci/run:
#   ESLint (eslint.config.js, typescript-eslint), Prettier --check (.prettierrc.json) over TypeScript and
#   JavaScript, clang-format --dry-run -Werror (.clang-format) over the C and C++ of native/, bench/room/
#   and test/native/.
# The last line counts the checks as tests ("Tests N passed | M failed") the way .ci/run reads them.
#
#   bash scripts/lint.sh          check
#   bash scripts/lint.sh --fix    rewrite with Prettier and clang-format (`npm run format`); ESLint
#                                 findings are left to be fixed by hand
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
bin=node_modules/.bin
js_sources='**/*.{ts,mts,cts,js,mjs,cjs}'
cxx_dirs=()
for d in native bench/room test/native; do [ -d "$d" ] && cxx_dirs+=("$d"); done
# With no file at all clang-format would read stdin: then there is nothing to format or check.
mapfile -t cxx_sources < <(find "${cxx_dirs[@]}" /dev/null -type f \( -name '*.cc' -o -name '*.h' -o -name '*.c' \) | sort)

if ! command -v clang-format >/dev/null 2>&1; then
  echo "clang-format is missing: apt-get install clang-format (scripts/setup.sh does)" >&2
  clang_format=false
else
  clang_format=clang-format
fi

if [ "${1:-}" = "--fix" ]; then
  "$bin/prettier" --write --log-level warn "$js_sources" || exit
  [ ${#cxx_sources[@]} -eq 0 ] || "$clang_format" -i "${cxx_sources[@]}"
  exit
fi

passed=0
failed=0
check() {
  local name=$1
  shift
  echo "::: lint: $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "::: lint: $name FAILED (npm run format fixes formatting)"
  fi
}
check 'eslint' "$bin/eslint" --max-warnings 0 .
check 'prettier --check' "$bin/prettier" --check --log-level warn "$js_sources"
if [ ${#cxx_sources[@]} -gt 0 ]; then
  check "clang-format (${#cxx_sources[@]} files)" "$clang_format" --dry-run -Werror "${cxx_sources[@]}"
fi
echo "      Tests  $passed passed | $failed failed ($((passed + failed)))"
[ "$failed" -eq 0 ]
