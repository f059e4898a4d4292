"""Replay the committed fuzz corpus (tests/fuzz/corpus/) through the fuzz harness's check on
both cores, without atheris: every seed and every minimized finding stays a regression test
of the normal suite. (Fuzzing itself: tests/fuzz/run.sh.)"""

import pathlib

import pytest

import fuzz_tickets

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"
FILES = sorted(path for path in CORPUS.iterdir() if path.is_file())


@pytest.fixture(scope="module")
def checker(both_cores):
    compiled, pure = both_cores
    return fuzz_tickets.Checker(compiled.module, pure.module)


def test_corpus_is_there():
    names = [path.name for path in FILES]
    assert len(names) >= 100, names
    for prefix in ("seed-ticket-", "seed-authtkt-", "seed-new-ticket-", "seed-new-authtkt-", "seed-guard-"):
        assert any(name.startswith(prefix) for name in names), prefix


@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_replay(checker, path):
    checker.check(path.read_bytes())


def test_seeds_are_current():
    """make_corpus.py still writes exactly the committed seeds (the format has not drifted)."""
    import make_corpus

    seeds = make_corpus.seeds()
    committed = {
        path.name[len("seed-") :]: path.read_bytes() for path in FILES if path.name.startswith("seed-")
    }
    assert committed == seeds


def test_input_reader_is_total():
    """Any bytes are a valid input: short or empty inputs read as zeros."""
    reader = fuzz_tickets.Input(b"\x05")
    assert reader.byte() == 5
    assert reader.byte() == 0
    assert reader.take(3) == b""
    assert reader.sized() == b""
    assert reader.uint(4) == 0


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00",
        b"\x01",
        b"\x02",
        b"\x03",
        b"\x04",
        b"\xff" * 64,
        b"\x04" + b"\xff" * 64,
        bytes(range(256)),
    ],
)
def test_degenerate_inputs(checker, data):
    checker.check(data)
