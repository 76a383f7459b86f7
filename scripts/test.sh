#!/usr/bin/env bash
# The whole test suite: installs what it needs, typechecks, lints, then runs every test (unit, the real
# peers, end to end) with node's test runner.
#
#   scripts/test.sh            everything (what `npm test` and .ci/run call)
#   scripts/test.sh --fast     typecheck, lint and the tests that need no external peer
#   scripts/test.sh FILE...    just these test files (after installing)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fast=0
files=()
for arg in "$@"; do
  case "$arg" in
    --fast) fast=1 ;;
    *) files+=("$arg") ;;
  esac
done

step() { printf '\n== %s\n' "$*"; }
start=$SECONDS

if [ "$fast" -eq 1 ]; then
  bash scripts/install-tools.sh npm
else
  step "installing tools (fast when already installed)"
  bash scripts/install-tools.sh
fi

if [ ${#files[@]} -eq 0 ]; then
  step "typecheck"
  npx tsc --noEmit -p tsconfig.json
  step "lint"
  npx eslint --max-warnings=0 .
  npx prettier --check --log-level=warn .
  if [ "$fast" -eq 1 ]; then
    # Tests that start a real peer live in test/peers/ or test/e2e/, or are named *.peer.test.ts.
    mapfile -t files < <(find test -name '*.test.ts' -not -path 'test/peers/*' -not -path 'test/e2e/*' \
      -not -name '*.peer.test.ts' | sort)
  else
    mapfile -t files < <(find test -name '*.test.ts' | sort)
  fi
fi

step "tests (${#files[@]} files)"
node --import tsx --test --test-concurrency=2 --test-reporter=spec "${files[@]}"
step "all green in $((SECONDS - start))s"
