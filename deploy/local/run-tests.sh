#!/usr/bin/env bash
# `make test`: start the stack, run the static gates and every test suite, always stop the stack.
# The exit code is the first failure's; the stack is stopped even when a step fails.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PY=.venv/bin/python
started=$(date +%s)
status=0

step() {
  local name=$1; shift
  echo "==> $name"
  local t0; t0=$(date +%s)
  if "$@"; then echo "<== $name ok ($(( $(date +%s) - t0 ))s)"; else
    local rc=$?; echo "<== $name FAILED (exit $rc)"; [ "$status" -ne 0 ] || status=$rc; fi
}

stack_was_up=0
bash deploy/local/stack.sh status >/dev/null 2>&1 && stack_was_up=1
trap '[ "$stack_was_up" = 1 ] || bash deploy/local/stack.sh down' EXIT

step "local stack up" bash deploy/local/stack.sh up
bash deploy/local/stack.sh status
step "static gates" make --no-print-directory check
# pytest exit code 5 means "no tests ran": that is a failure here, never a pass.
step "unit tests" "$PY" -m pytest tests/unit -q -p no:cacheprovider
step "integration tests" "$PY" -m pytest tests/integration -q -p no:cacheprovider
step "end-to-end tests" "$PY" -m pytest tests/e2e -q -p no:cacheprovider
echo "make test finished in $(( $(date +%s) - started ))s with exit code $status"
exit "$status"
