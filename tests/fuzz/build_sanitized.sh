#!/usr/bin/env bash
# Build the compiled core with AddressSanitizer, UndefinedBehaviorSanitizer and libFuzzer
# coverage (clang), in a copy of the sources, so the normal in-place build is left alone.
#
#   tests/fuzz/build_sanitized.sh [BUILD_DIR]        # default: /tmp/ticket_auth_fuzzbuild
#
# The result is a snapshot of the package, BUILD_DIR/src/ticket_auth/, with the sanitizer
# build of _ticketcore.*.so. The fuzz harness imports the package (both cores) from it when
# TICKET_AUTH_FUZZ_SRC=BUILD_DIR/src. It must run with the atheris ASan+libFuzzer runtime
# preloaded and Python's allocator off, see tests/fuzz/run.sh.
#
# Needs clang (Debian: apt-get install -y clang) and Cython; Python itself is not
# instrumented.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-/tmp/ticket_auth_fuzzbuild}"
python="${PYTHON:-python}"

rm -rf "$build"
mkdir -p "$build/src/ticket_auth"
cp "$here/setup.py" "$here/pyproject.toml" "$here/README.md" "$here/LICENSE" "$build/"
cp "$here/src/_ticketcore.pyx" "$build/src/"
cp -r "$here/src/_ticketlib" "$build/src/"
# The whole package (its subpackages too: the guard), without a build product of the tree.
(cd "$here/src" && find ticket_auth -name '*.py' -o -name '*.pyi' -o -name py.typed) | while read -r file; do
    mkdir -p "$build/src/$(dirname "$file")"
    cp "$here/src/$file" "$build/src/$file"
done

cd "$build"
# -O1 keeps the code close to the source for the sanitizers; the later -O1 overrides the
# -O3 in Python's own CFLAGS. fuzzer-no-link adds libFuzzer's coverage and comparison
# tracing without linking a second libFuzzer (atheris' preloaded runtime provides it).
# -fno-sanitize-recover makes the first UB report fatal, so the fuzzer sees it as a crash.
TICKET_AUTH_REQUIRE_EXTENSION=1 \
CC=clang \
LDSHARED="clang -shared" \
CFLAGS="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1" \
LDFLAGS="-fsanitize=address,undefined,fuzzer-no-link" \
    "$python" setup.py -q build_ext --inplace --build-temp "$build/tmp"
ls "$build"/src/ticket_auth/_ticketcore*.so
