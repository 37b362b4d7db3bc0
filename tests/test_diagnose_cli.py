"""`liferaft diagnose`: text or stdin in, ranked matches out; exit 0 with a match, 1 without, 2 for usage."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import cli_env, write


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "liferaft", "diagnose", *args], capture_output=True, text=True,
                          env=cli_env(), input=stdin if stdin is not None else "", timeout=60)


def test_session_expired_text() -> None:
    result = _run("Code interpreter session expired")
    assert result.returncode == 0, result.stderr
    first = result.stdout.split("\n\n")[0]
    assert first.startswith("1. The chat says its code session expired  [SESSION]")
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
    result = _run("--json", "Error 429: too many requests. Something went wrong.")
    ids = [match["symptom"] for match in json.loads(result.stdout)["matches"]]
    assert ids[:2] == ["rate_limited", "something_went_wrong"]
    scores = [match["score"] for match in json.loads(result.stdout)["matches"]]
    assert scores == sorted(scores, reverse=True)


def test_no_text_lists_what_it_knows() -> None:
    result = _run()
    assert result.returncode == 1
    assert "Failures Liferaft knows:" in result.stdout
    assert "Conversation not found" in result.stdout
    assert "Something else" not in result.stdout


def test_usage_errors_are_one_line() -> None:
    for args, stdin, words in ((["-"], "", "nothing to diagnose"), (["--json"], "", "--json needs"),
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
