#!/usr/bin/env bash
# Fuzz both cores for a bounded time, with the compiled core built with ASan + UBSan.
#
#   tests/fuzz/run.sh [SECONDS] [libFuzzer options...]     # default 60 s (what CI runs)
#   tests/fuzz/run.sh 3600 -print_pcs=0                    # a long campaign
#
# Installs what it needs when missing (atheris from PyPI; clang from Debian when run as
# root), builds the sanitizer copy of the compiled core (build_sanitized.sh, outside the
# source tree), then runs fuzz_tickets.py on the committed corpus. New corpus entries go to a
# temporary directory (the committed corpus is only read); a finding leaves a crash-* file
# there, prints its path and base64, and makes this script fail.
#
# Environment: PYTHON (default python), TICKET_AUTH_FUZZ_WORK (default: a new temporary
# directory), TICKET_AUTH_FUZZ_BUILD (reuse a sanitizer build directory).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
shift || true
python="${PYTHON:-python}"

"$python" -c "import atheris" 2>/dev/null || "$python" -m pip install --quiet atheris
# The sanitizer build runs setup.py itself, so it needs the build requirements here.
"$python" -c "import Cython, setuptools" 2>/dev/null || "$python" -m pip install --quiet "Cython>=3.1" "setuptools>=77"
if ! command -v clang >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null
    else
        echo "run.sh: clang is needed for the sanitizer build (apt-get install clang)" >&2
        exit 2
    fi
fi

keep="${TICKET_AUTH_FUZZ_WORK:+yes}"
work="${TICKET_AUTH_FUZZ_WORK:-$(mktemp -d -t ticket_auth_fuzz.XXXXXX)}"
mkdir -p "$work/corpus"
build="${TICKET_AUTH_FUZZ_BUILD:-$work/build}"
if ! ls "$build"/src/ticket_auth/_ticketcore*.so >/dev/null 2>&1; then
    PYTHON="$python" tests/fuzz/build_sanitized.sh "$build" >"$work/build.log" 2>&1 \
        || { cat "$work/build.log" >&2; exit 2; }
fi
runtime="$("$python" -c 'import atheris, os; print(os.path.join(atheris.path(), "asan_with_fuzzer.so"))')"

echo "fuzzing both cores for ${seconds}s; work directory $work" >&2
# PYTHONMALLOC=malloc: Python objects come from malloc, so ASan sees their bounds.
# detect_leaks=0: CPython keeps objects alive at exit (tests/test_leaks.py checks leaks).
# allocator_may_return_null=1: a huge allocation is a MemoryError (a finding), not an abort.
env LD_PRELOAD="$runtime" \
    PYTHONMALLOC=malloc \
    ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:abort_on_error=0:${ASAN_OPTIONS:-}" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}" \
    TICKET_AUTH_FUZZ_SRC="$build/src" \
    TICKET_AUTH_FUZZ_ARTIFACTS="$work" \
    "$python" tests/fuzz/fuzz_tickets.py "$work/corpus" tests/fuzz/corpus \
    -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$work/" "$@"
# Reached only on success (set -e): a temporary work directory holds nothing worth keeping.
[ -n "$keep" ] || rm -rf "$work"
