"""Token counts: exact with o200k_base only from a local, checked data file; otherwise a labelled estimate, fast,
and never a network connection. The real data file is not shipped, so a small synthetic one in tiktoken's format
(lines of ``base64-token rank``) stands in for it, with its own checksum."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
from pathlib import Path

import pytest

from liferaft.cli import main
from liferaft.core import preflight, tokens
from tests.conftest import write

#: Every single byte, plus a few merges whose effect is easy to count by hand.
MERGES = (b"ab", b" ab", b"he", b"hel", b"hell", b"hello", b" w", b"or", b"ld", b"\n\n", b".\n", b".\n/")


def synthetic_data() -> bytes:
    ranked = [bytes([byte]) for byte in range(256)] + list(MERGES)
    return b"".join(base64.b64encode(token) + b" " + str(rank).encode() + b"\n" for rank, token in enumerate(ranked))


@pytest.fixture(autouse=True)
def empty_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No tokenizer data unless a test puts it there (a developer's real cache never leaks in)."""
    folder = tmp_path_factory.mktemp("tiktoken-cache")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Any attempt to resolve a name or open a connection is recorded and fails at once."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network is unreachable (test)")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


@pytest.fixture
def synthetic(empty_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The synthetic data file under tiktoken's cache name, accepted as the published one."""
    data = synthetic_data()
    monkeypatch.setattr(tokens, "SHA256", hashlib.sha256(data).hexdigest())
    return write(empty_cache / hashlib.sha1(tokens.URL.encode()).hexdigest(), data)


def test_without_the_data_it_is_an_estimate_and_offline(tmp_path: Path, no_network: list[object]) -> None:
    note = write(tmp_path / "notes.md", "hello world\n" * 1000)
    check = preflight.check_file(note, "notes.md")
    assert (check.tokens, check.tokens_exact) == (3000, False)
    assert no_network == []


def test_with_the_data_the_count_is_exact(synthetic: Path, tmp_path: Path, no_network: list[object]) -> None:
    # "ab ab hello": pieces "ab", " ab", " hello" → ab | " ab" | " " hello = 4 tokens (by the merges above).
    note = write(tmp_path / "notes.txt", "ab ab hello")
    check = preflight.check_file(note, "notes.txt")
    assert (check.tokens, check.tokens_exact) == (4, True)
    # Only single bytes for text the merges do not cover: one token a byte, UTF-8 bytes for "é".
    other = write(tmp_path / "other.txt", "xyz é")
    assert preflight.check_file(other, "other.txt").tokens == 6
    assert no_network == []


def test_the_exact_count_is_named_in_the_message(synthetic: Path, tmp_path: Path) -> None:
    note = write(tmp_path / "notes.txt", "ab " * 40)  # 40 tokens: "ab" then 39 × " ab", then a lone " "
    limits = preflight.upload_limits()
    import dataclasses

    check = preflight.check_file(note, "notes.txt", limits=dataclasses.replace(limits, text_tokens=30))
    assert check.tokens == 41 and check.tokens_exact
    message = next(p.message for p in check.problems if p.code == "too_many_tokens")
    assert "exact (o200k_base)" in message and "estimate" not in message
    estimated = preflight._token_problems(41, dataclasses.replace(limits, text_tokens=30))[0].message
    assert "an estimate: size ÷ 4" in estimated


def test_a_data_file_that_does_not_match_is_not_used_and_kept(empty_cache: Path, tmp_path: Path,
                                                              no_network: list[object]) -> None:
    # Not the published file (its checksum differs): estimate, and the file is left alone (tiktoken would
    # delete it and download a new one).
    cached = write(empty_cache / hashlib.sha1(tokens.URL.encode()).hexdigest(), synthetic_data())
    note = write(tmp_path / "notes.txt", "ab ab hello")
    check = preflight.check_file(note, "notes.txt")
    assert (check.tokens, check.tokens_exact) == (3, False)
    assert cached.read_bytes() == synthetic_data()
    assert no_network == []


def test_the_plain_file_name_is_found_too(empty_cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = synthetic_data()
    monkeypatch.setattr(tokens, "SHA256", hashlib.sha256(data).hexdigest())
    write(empty_cache / "o200k_base.tiktoken", data)
    assert tokens.count_file(write(tmp_path / "a.txt", "hello"), 5).exact


def test_damaged_data_gives_an_estimate(empty_cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for data in (b"not base64 at all\n", b"YQ== 0\n", b"\x00\xff" * 100):  # garbage; too few tokens; binary
        monkeypatch.setattr(tokens, "SHA256", hashlib.sha256(data).hexdigest())
        write(empty_cache / "o200k_base.tiktoken", data)
        counted = tokens.count_file(write(tmp_path / "a.txt", "hello"), 5)
        assert (counted.tokens, counted.exact) == (2, False)


def test_cutting_the_text_into_pieces_keeps_the_count_exact(synthetic: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    encoding = tokens.encoding()
    assert encoding is not None
    text = ("hello world\n/usr/bin ab\n\n  indented ab\nab.\n/ab\n123 4567\nhello\r\n" * 3) + "end"
    whole = len(encoding.encode_ordinary(text))
    for size in range(1, len(text)):  # every place a piece could start
        monkeypatch.setattr(tokens, "_CHUNK", size)
        assert tokens.count_text(encoding, text) == whole, size


def test_large_or_pathological_files_are_estimated(synthetic: Path, tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as handle:  # sparse: 17 MB without writing them
        handle.truncate(tokens.MAX_EXACT_BYTES + 1_000_000)
    one_line = write(tmp_path / "one_line.txt", "a" * 6_000_000)
    long_words = write(tmp_path / "long_words.txt", ("a" * 60_000 + " ") * 30)  # runs just under the cut-off
    big = preflight.check_file(huge, "huge.txt")  # how fast: tests/bench/bounded_bench.py
    line = preflight.check_file(one_line, "one_line.txt")
    words = preflight.check_file(long_words, "long_words.txt")
    assert words.tokens_exact
    assert not big.tokens_exact and big.tokens == (tokens.MAX_EXACT_BYTES + 1_000_000) // 4
    message = next(p.message for p in big.problems if p.code == "too_many_tokens")
    assert "an estimate: size ÷ 4" in message and "too large to count exactly" in message
    assert (line.tokens, line.tokens_exact) == (1_500_000, False)


def test_not_utf8_text_is_estimated(synthetic: Path, tmp_path: Path) -> None:
    check = preflight.check_file(write(tmp_path / "latin.txt", "caf\xe9".encode("latin-1")), "latin.txt")
    assert (check.tokens, check.tokens_exact) == (1, False)


def test_an_exhausted_budget_estimates_the_rest(synthetic: Path, tmp_path: Path) -> None:
    spent = tokens.Budget(0)
    check = preflight.check_file(write(tmp_path / "a.txt", "hello"), "a.txt", budget=spent)
    assert (check.tokens, check.tokens_exact) == (2, False)


def test_fetch_offline_fails_in_one_line(no_network: list[object], empty_cache: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--fetch-tokenizer"])
    err = capsys.readouterr().err
    assert code == 1 and no_network
    assert err.splitlines()[-1].startswith("liferaft: cannot download the o200k_base tokenizer data")
    assert "Traceback" not in err and list(empty_cache.iterdir()) == []


def test_fetch_saves_a_checked_copy_under_tiktokens_name(empty_cache: Path, tmp_path: Path) -> None:
    data = synthetic_data()
    source = write(tmp_path / "served.tiktoken", data)
    with pytest.raises(tokens.FetchError, match="does not match"):
        tokens.fetch_tokenizer(source.as_uri())  # the published checksum: this file is not it
    assert list(empty_cache.iterdir()) == []
    saved = tokens.fetch_tokenizer(source.as_uri(), expected_sha256=hashlib.sha256(data).hexdigest())
    assert saved == empty_cache / hashlib.sha1(tokens.URL.encode()).hexdigest()
    assert saved.read_bytes() == data


def test_no_cache_folder_means_estimates(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # tiktoken's way of saying "no cache"
    assert tokens.cache_dirs() == [] and tokens.data_file() is None
    assert not tokens.count_file(write(tmp_path / "a.txt", "hello"), 5).exact


def test_liferafts_cache_folder_is_under_the_user_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    folder = tokens.liferaft_cache_dir()
    assert folder.parts[-2:] == ("liferaft", "tiktoken") and folder in tokens.cache_dirs()
    assert os.path.isabs(folder)


def test_a_pipe_in_the_cache_never_blocks(empty_cache: Path, tmp_path: Path) -> None:
    os.mkfifo(empty_cache / tokens.cache_name())  # a shared cache folder may hold anything
    write(empty_cache / f"{tokens.ENCODING}.tiktoken", "junk")
    note = write(tmp_path / "notes.md", "some words " * 100)
    import threading

    done: list[object] = []
    thread = threading.Thread(target=lambda: done.append(tokens.count_file(note, note.stat().st_size)), daemon=True)
    thread.start()
    thread.join(10)
    assert done and not done[0].exact  # estimated, at once
