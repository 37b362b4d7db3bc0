"""The support report: every field support asks for, the pasted error kept exactly, the time with its zone,
the account email from the config, and a saved copy that never overwrites another."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from liferaft.core.diagnose.support import (
    SCOPES,
    Environment,
    SupportDetails,
    account_email,
    build_report,
    environment,
    save_report,
    tried_steps,
)

NOW = 1772452800.0  # 2026-03-02 12:00 UTC
ENV = Environment(NOW, "Linux 6.1", "3.11.9", "0.1.0", "8.2.8")


@pytest.fixture
def new_york() -> Iterator[None]:
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    os.environ["TZ"] = "UTC"
    time.tzset()


def test_the_report_holds_everything_support_asks_for() -> None:
    details = SupportDetails(
        error_text="Something went wrong.\nIf this issue persists please contact us through our help center.",
        scope="every_device", request_id="req_8f2c91ab", browser="Firefox 133 on Windows 11",
        email="ana@example.com", symptom='"Something went wrong"', tried=["Reload the page.", "Try another browser."],
        status="up: All Systems Operational", notes="re-running the cleaning step", screenshot=True)
    text = build_report(details, ENV)
    assert text.startswith('Subject: ChatGPT data analysis: "Something went wrong" (every device)\n')
    assert "> Something went wrong.\n> If this issue persists please contact us through our help center.\n" in text
    for expected in ("When: 2026-03-02 12:00:00 UTC (UTC+00:00)", f"Where it happens: {SCOPES['every_device']}",
                     "Browser or app: Firefox 133 on Windows 11", "Request ID: req_8f2c91ab",
                     "Account: ana@example.com", "Status page when I checked: up: All Systems Operational",
                     "- Reload the page.\n- Try another browser.", "re-running the cleaning step",
                     "A screenshot of the error is attached.",
                     "System: Linux 6.1 (Python 3.11.9, Liferaft 0.1.0, Textual 8.2.8)"):
        assert expected in text
    assert details.missing() == []


def test_what_is_missing_is_said_not_invented() -> None:
    details = SupportDetails()
    text = build_report(details, ENV)
    assert "> (no message shown)" in text and "Request ID: none shown" in text
    assert "Account: (add your email)" in text and "Where it happens: (not checked yet)" in text
    assert "What I already tried" not in text and "screenshot" not in text.lower()
    assert details.missing() == ["the exact error text", "where it happens (one chat, all chats, one browser, every "
                                 "device)", "your account's email", "your browser or app", "a screenshot"]


def test_the_subject_reads_as_a_sentence() -> None:
    text = build_report(SupportDetails(symptom="The chat says its code session expired", scope="one_chat"), ENV)
    assert text.startswith("Subject: ChatGPT data analysis: the chat says its code session expired (one chat)")


def test_the_pasted_error_keeps_its_wording_and_lines() -> None:
    pasted = "\n\n  Error in message stream  \r\nRequest ID: abc-123\n\n"
    text = build_report(SupportDetails(error_text=pasted), ENV)
    assert ">   Error in message stream\n> Request ID: abc-123\n\nWhen:" in text


def test_the_time_carries_its_zone(new_york: None) -> None:
    env = environment(NOW)
    assert env.timestamp == "2026-03-02 07:00:00 EST (UTC-05:00)"
    assert env.app and env.python and env.system


def test_the_account_email_comes_from_the_config() -> None:
    assert account_email({"diagnose": {"account_email": " ana@example.com "}}) == ("ana@example.com", [])
    assert account_email({}) == ("", [])
    email, warnings = account_email({"diagnose": {"account_email": "not an email"}}, "config.toml")
    assert email == "" and warnings[0].startswith("config.toml: diagnose.account_email must be an email")
    assert account_email({"diagnose": "x"})[1] == ["config: [diagnose] must be a table; no account email"]


def test_tried_steps_keep_the_checklist_order() -> None:
    steps = [("save_prompt", "Save it."), ("reload", "Reload."), ("other_browser", "Other browser.")]
    assert tried_steps(steps, {"other_browser", "save_prompt"}) == ["Save it.", "Other browser."]


def test_a_saved_report_never_overwrites_another(tmp_path: Path) -> None:
    first = save_report(tmp_path, {}, "one\n", NOW)
    second = save_report(tmp_path, {}, "two\n", NOW)
    assert first.parent == tmp_path / "RESTART" / "prompts"
    assert first.name == "20260302-120000-support-report.md" and second.name == "20260302-120000-support-report-2.md"
    assert first.read_text() == "one\n" and second.read_text() == "two\n"
