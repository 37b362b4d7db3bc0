"""`liferaft diagnose`: text or stdin in, ranked matches out; exit 0 with a match, 1 without, 2 for usage."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import cli_env, write


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "liferaft", "diagnose", *args], capture_output=True, text=True,
                          env=cli_env(), input=stdin if stdin is not None else "", timeout=60)


def test_session_expired_text() -> None:
    result = _run("Code interpreter session expired")
    assert result.returncode == 0, result.stderr
    first = result.stdout.split("\n\n")[0]
    assert first.startswith("1. The chat says its code session expired  [SESSION]  certain, score")
    assert "matched: 'code interpreter session expired'" in first
    assert "cause:" in first and "next steps:" in first
    assert "copy the rerun prompt in the workbench" in first
    assert result.stderr == ""


def test_words_need_no_quotes() -> None:
    result = _run("code", "interpreter", "session", "expired")
    assert result.returncode == 0
    assert "[SESSION]" in result.stdout


def test_json_from_stdin() -> None:
    banner = "<div role='alert'>\n  Too many requests in 1 hour.\n  Try again later. (HTTP 429)\n</div>\n"
    result = _run("-", "--json", stdin=banner)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    first = payload["matches"][0]
    assert first["symptom"] == "rate_limited"
    assert first["layer"] == "FIX"
    assert first["cause"]
    assert isinstance(first["next_steps"], list) and len(first["next_steps"]) >= 2
    assert 0 < first["score"] <= 1
    assert any("too many requests" in words for words in first["matched"])
    assert any("429" in words for words in first["matched"])


def test_piped_without_dash() -> None:
    result = _run("--json", stdin="Network error")
    assert result.returncode == 0
    assert json.loads(result.stdout)["matches"][0]["symptom"] == "network_error"


def test_no_match_is_honest() -> None:
    result = _run("Please make a bar chart of revenue by region")
    assert result.returncode == 1
    assert result.stdout.startswith("No known match")
    assert "SESSION" in result.stdout and "FIX" in result.stdout  # the general flow follows
    assert "1. Save the exact last prompt" in result.stdout
    result = _run("--json", "The price is $429.99")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {"matches": []}


def test_several_matches_are_ranked() -> None:
    result = _run("--json", "ChatGPT: Error 429: too many requests. Something went wrong.")
    ids = [match["symptom"] for match in json.loads(result.stdout)["matches"]]
    assert ids[:2] == ["rate_limited", "something_went_wrong"]
    scores = [match["score"] for match in json.loads(result.stdout)["matches"]]
    assert scores == sorted(scores, reverse=True)


def test_no_text_lists_what_it_knows() -> None:
    import os
    import pty

    leader, terminal = pty.openpty()  # no TEXT, and a terminal on standard input: nothing was meant to be read
    try:
        result = subprocess.run([sys.executable, "-m", "liferaft", "diagnose"], stdin=terminal,
                                capture_output=True, text=True, env=cli_env(), timeout=60)
    finally:
        os.close(terminal)
        os.close(leader)
    assert result.returncode == 1
    assert "Failures Liferaft knows:" in result.stdout
    assert "Conversation not found" in result.stdout
    assert "Something else" not in result.stdout


def test_usage_errors_are_one_line() -> None:
    for args, stdin, words in ((["-"], "", "nothing to diagnose"), (["--json"], "", "nothing to diagnose"),
                               ([], "", "nothing to diagnose"), ([], " \n\t\n", "nothing to diagnose"),
                               (["-"], "\n\n", "nothing to diagnose"),
                               (["-", "extra"], "x", "cannot be mixed"), (["  "], None, "empty")):
        result = _run(*args, stdin=stdin)
        assert result.returncode == 2, (args, result)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("liferaft: ") and words in lines[0], result.stderr
        assert "Traceback" not in result.stderr


def test_binary_stdin_does_not_crash() -> None:
    result = subprocess.run([sys.executable, "-m", "liferaft", "diagnose", "-"], capture_output=True,
                            env=cli_env(), input=b"\xff\xfe\x00Conversation not found\x00\xff", timeout=60)
    assert result.returncode == 0
    assert b"Conversation not found" in result.stdout


def test_dir_adds_the_session_clock(tmp_path: Path) -> None:
    from liferaft.core.diagnose.clock import record_activity

    root = tmp_path / "project"
    now = time.time()
    write(root / "SOURCE" / "orders.csv", "a,b\n1,2\n", now - 20 * 3600)
    record_activity(root, "chat", now - 2 * 3600)
    result = _run("--dir", str(root), "Code interpreter session expired")
    assert result.returncode == 0, result.stderr
    assert "Session clock: IDLE" in result.stdout
    assert "you said you used the chat" in result.stdout
    payload = json.loads(_run("--dir", str(root), "--json", "session expired").stdout)
    assert payload["session_clock"]["state"] == "idle"
    assert 1.9 < payload["session_clock"]["idle_hours"] < 2.1


def test_dir_must_exist(tmp_path: Path) -> None:
    result = _run("--dir", str(tmp_path / "nowhere"), "session expired")
    assert result.returncode == 2
    assert "no such folder" in result.stderr


def test_a_long_log_on_stdin_is_read_to_its_end() -> None:
    import subprocess
    import sys

    log = "INFO ok line\n" * 1_500_000 + "ERROR: Code interpreter session expired\n"  # ~20 MB
    done = subprocess.run([sys.executable, "-m", "liferaft", "diagnose", "-", "--json"], input=log.encode(),
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert b'"symptom": "session_expired"' in done.stdout
    assert b"first and last" in done.stderr


def test_a_generic_wording_alone_is_only_possible() -> None:
    result = _run("Session expired")
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("No sure match. Possible, if this came from ChatGPT:")
    assert "[SESSION]  possible, score" in result.stdout
    assert "note: generic wording, nothing says it came from ChatGPT" in result.stdout
    payload = json.loads(_run("--json", "Internal Server Error").stdout)
    assert payload["matches"] == [] and payload["possible"][0]["symptom"] == "server_error"
    assert payload["possible"][0]["confidence"] == "possible"
    # Another product named: only possible, and the note says which.
    result = _run("Flask says: 500 Internal Server Error")
    assert result.returncode == 1 and "names another product ('flask')" in result.stdout
    # The same words with ChatGPT evidence in them are an answer.
    result = _run("--json", "ChatGPT says: Internal Server Error")
    assert result.returncode == 0 and json.loads(result.stdout)["matches"][0]["symptom"] == "server_error"


def test_dir_is_the_evidence_for_a_generic_wording(tmp_path: Path) -> None:
    root = tmp_path / "project"
    write(root / "SOURCE" / "orders.csv", "a,b\n1,2\n", time.time() - 3600)
    result = _run("--dir", str(root), "Session expired")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1. The chat says its code session expired  [SESSION]  likely")


@pytest.mark.parametrize("payload", [
    bytes(range(256)) * 64,  # every byte value, NUL bytes too
    b"\x00" * 10_000,
    b"\xff\xfe\xfd Session \xc3\x28 expired \xed\xa0\x80",  # invalid UTF-8 (a lone surrogate too)
    b"\x89PNG\r\n\x1a\n" + bytes((i * 7919) % 256 for i in range(200_000)),  # a binary file
    "\U0001F600 é ß \u202e Ωmega".encode("utf-16"),
    b"!!!???...;;;",
], ids=["all-bytes", "nuls", "invalid-utf8", "binary", "utf16", "punctuation"])
def test_no_text_crashes_it(payload: bytes) -> None:
    for args in (["-"], ["-", "--json"]):
        done = subprocess.run([sys.executable, "-m", "liferaft", "diagnose", *args], input=payload,
                              capture_output=True, env=cli_env(), timeout=60)
        assert done.returncode in (0, 1), done.stderr
        assert b"Traceback" not in done.stderr
        if "--json" in args:
            json.loads(done.stdout)


def test_invalid_utf8_in_the_arguments_does_not_crash_it() -> None:
    import os

    done = subprocess.run([os.fsencode(sys.executable), b"-m", b"liferaft", b"diagnose", b"\xff\xfeSession",
                           b"expired \xc3\x28 in ChatGPT"], capture_output=True, env=cli_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr and b"session expired" in done.stdout.lower()
