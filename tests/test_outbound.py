"""One secret gate for every exit (issue 15): `liferaft prompt` on stdout, with --out and with --copy (the saved
copy), deliver() (clipboard, OSC 52, saved copy), the support report, and the workbench's ctrl+y. The gate scans
every text a prompt is built from whole (a key used as a column name and cut by `…` never shows, not even in
part), never crosses a fence or a file header, and always covers the whole token.

The keys are built at run time from a seeded generator: no literal in the source looks like a real one."""

from __future__ import annotations

import dataclasses
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from liferaft.core import clipboard, compose, outbound, secrets
from liferaft.core.clipboard import CopyResult
from liferaft.core.delivery import deliver
from liferaft.core.diagnose.support import save_report
from liferaft.core.project import open_project
from liferaft.core.uploads import plan_uploads
from tests.conftest import FROZEN_NOW, cli_env, write

_ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _random(count: int, seed: int, alphabet: str = _ALPHANUMERIC) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(count))


#: A GitHub personal access token's shape: 40 characters.
GHP = "ghp" + "_" + _random(36, 1)
#: An OpenAI project key's shape.
SK = "sk-" + "proj-" + _random(74, 2) + "T3Blbk" + "FJ" + _random(74, 3)
#: A GitLab token longer than the part its rule matches (glpat- and 20 characters).
GLPAT = "glpat" + "-" + _random(58, 4)
#: Column names before the key, so that the key is cut by the preview's 200-character limit (… at 199).
FILLER = "Revenue per region " * 9 + "Revenue pe "


def pieces(secret: str, text: str) -> list[str]:
    """Every 8-character piece of ``secret`` that shows up in ``text``."""
    return [secret[i : i + 8] for i in range(len(secret) - 7) if secret[i : i + 8] in text]


def _pem(end: str) -> tuple[str, list[str]]:
    body = [_random(64, 10 + line, _ALPHANUMERIC + "+/") for line in range(20)]
    return "-----BEGIN RSA " + "PRIVATE KEY-----\n" + "\n".join(body) + "\n" + end, body


def _key_project(root: Path) -> Path:
    """A project whose tables use keys as column names: one whole, one cut by the preview."""
    write(root / "SOURCE" / "keys.csv", f"id,{GHP},amount\n1,2,3\n")
    write(root / "SOURCE" / "wide.csv", f"id,{FILLER}{SK},x\n1,2,3\n")
    return root


def _context(root: Path) -> compose.ComposeContext:
    project = open_project(root)
    return compose.gather(project.root, project.inventory, plan_uploads(project.inventory))


def _prompt(root: Path, template: str = "rerun", include_code: bool = False) -> tuple[str, compose.ComposeContext]:
    context = _context(root)
    templates, _ = compose.load_templates(Path("/nonexistent"))
    return compose.assemble(templates[template], context, include_code=include_code, budget=100_000).text, context


def _structure(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("```", "#"))]


# --- the gate -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f'{{"gitlab_token": "{GLPAT}"}}\n',
        f"GITLAB_TOKEN={GLPAT}\n",
        f"The token was {GLPAT}.\n",
        f"id,{GLPAT},2\n",
    ],
)
def test_a_redaction_covers_the_whole_token(text: str) -> None:
    cleared = outbound.release(text)
    assert cleared.redacted == 1 and pieces(GLPAT, cleared.text) == []
    marker = re.search(r"\[REDACTED: [^\]]+\]", cleared.text)
    assert marker is not None
    assert text.replace(GLPAT, marker.group()) == cleared.text  # the token whole, and nothing around it


def test_a_key_cut_by_an_ellipsis_in_a_column_name_is_redacted(tmp_path: Path) -> None:
    text, context = _prompt(_key_project(tmp_path / "p"))
    assert pieces(SK, text) and "…" in text  # the preview cut the name: the prompt holds the key's first part
    assert any(name.endswith(SK) for _path, names in context.tables for name in names)  # the gate sees it whole
    gated = compose.gate(text, context)
    cleared = gated.release()
    assert pieces(SK, cleared.text) == [] and pieces(GHP, cleared.text) == []
    assert any("SOURCE/wide.csv, column 2" in line for line in gated.lines())
    assert _structure(cleared.text) == _structure(text)


@pytest.mark.parametrize(
    "end", ["-----END RSA PRIVATE KEY----", "-----END RSA PRIVATE KEY", "", "----- END RSA PRIVATE KEY -----"]
)
def test_a_private_key_with_a_broken_end_line_stops_at_its_file(tmp_path: Path, end: str) -> None:
    pem, body = _pem(end)
    root = tmp_path / "p"
    write(root / "SOURCE" / "a.csv", "a,b\n1,2\n")
    write(root / "CODE" / "a_key.py", f"KEY = '''\n{pem}'''\n")
    next_file = "".join(f"total_{i} = frame.groupby('region')['revenue'].sum() * {i}\n" for i in range(120))
    write(root / "CODE" / "b_next.py", next_file)
    # A well-formed END line further on: a rule that looks for it swallows everything in between.
    write(root / "CODE" / "c_check.py", "MARKER = '-----END RSA " + "PRIVATE KEY-----'\nprint(MARKER)\n")
    text, context = _prompt(root, include_code=True)
    cleared = compose.release(text, context)
    assert cleared.redacted >= 1
    assert not any(line in cleared.text for line in body)
    assert _structure(cleared.text) == _structure(text)  # every fence, file header and heading is still there
    assert next_file.rstrip() in cleared.text  # the next file whole
    assert "print(MARKER)" in cleared.text
    assert all(len(finding.masked) < 40 for finding in cleared.findings)
    for finding in cleared.findings:  # none spans a fence
        assert "```" not in text[finding.start : finding.end]


def test_a_source_secret_shows_up_in_part_anywhere(tmp_path: Path) -> None:
    """A secret found in a source is redacted wherever an 8-character piece of it shows up in the prompt."""
    root = tmp_path / "p"
    write(root / "SOURCE" / "a.csv", "a,b\n1,2\n")
    write(root / "CODE" / "step.py", f'TOKEN = "{GLPAT}"\n')
    _prompt_text, context = _prompt(root)
    text = f"Use the token that starts {GLPAT[:12]}… and ends …{GLPAT[-9:]}; the rest is unrelated.\n"
    cleared = compose.release(text, context)
    assert pieces(GLPAT, cleared.text) == []
    assert cleared.text.endswith("; the rest is unrelated.\n") and cleared.text.startswith("Use the token that")
    assert all(finding.source == "CODE/step.py, line 1" for finding in cleared.findings)


def test_the_gate_keeps_secrets_only_when_asked(tmp_path: Path) -> None:
    text, context = _prompt(_key_project(tmp_path / "p"))
    kept = compose.release(text, context, keep_secrets=True)
    assert kept.kept and kept.text == text and kept.redacted == 0 and kept.findings
    assert outbound.released(kept) is kept


def test_no_front_end_scans_redacts_or_saves_on_its_own() -> None:
    """The CLI and the workbench reach the gate only through liferaft.core.outbound (release, or gate then
    Gated.release) and save only through deliver(): none scans, redacts or writes a saved copy itself."""
    import liferaft

    package = Path(liferaft.__file__).parent
    for path in [*package.glob("*.py"), *(package / "tui").glob("*.py")]:
        source = path.read_text(encoding="utf-8")
        for name in ("scan_text", "secrets import redact", "secrets.redact", "save_prompt", "save_report"):
            assert name not in source, f"{path.name} uses {name}: every exit goes through liferaft.core.outbound"


# --- the exits ----------------------------------------------------------------------------------------------


def test_cli_stdout_out_and_copy_never_show_a_key_used_as_a_column_name(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    root = _key_project(tmp_path / "p")
    printed = run_cli("prompt", str(root))
    assert printed.returncode == 0, printed.stderr
    assert pieces(GHP, printed.stdout) == [] and pieces(SK, printed.stdout) == []
    assert "[REDACTED: " in printed.stdout and "SOURCE/keys.csv, column 2" in printed.stderr
    assert pieces(GHP, printed.stderr) == [] and pieces(SK, printed.stderr) == []
    kept = run_cli("prompt", str(root), "--allow-secrets")
    assert GHP in kept.stdout and pieces(SK, kept.stdout)  # what the gate takes out, when it is not skipped

    out = tmp_path / "prompt.md"
    written = run_cli("prompt", str(root), "--out", str(out))
    assert written.returncode == 0, written.stderr
    saved_out = out.read_text(encoding="utf-8")
    assert "[REDACTED: " in saved_out and pieces(GHP, saved_out) == [] and pieces(SK, saved_out) == []

    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = cli_env(PATH=str(empty))
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    copied = subprocess.run(
        [sys.executable, "-m", "liferaft", "prompt", str(root), "--copy"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert copied.returncode == 0, copied.stderr
    saved = list((root / "RESTART" / "prompts").glob("*.md"))
    assert len(saved) == 1
    saved_copy = saved[0].read_text(encoding="utf-8")
    assert "[REDACTED: " in saved_copy and pieces(GHP, saved_copy) == [] and pieces(SK, saved_copy) == []


def test_deliver_gates_a_plain_string_on_every_route(tmp_path: Path) -> None:
    to_clipboard: list[str] = []
    to_terminal: list[str] = []

    def native(text: str) -> CopyResult:
        to_clipboard.append(text)
        return CopyResult(False, "no tool")

    text = f'settings = {{"gitlab_token": "{GLPAT}"}}\n'
    done = deliver(
        text,
        what="the rerun prompt",
        root=tmp_path,
        role_folders={},
        template="rerun",
        now=FROZEN_NOW,
        terminal=to_terminal.append,
        native=native,
    )
    assert done.how == "terminal" and done.saved is not None
    for sent in (*to_clipboard, *to_terminal, done.saved.read_text(encoding="utf-8")):
        assert pieces(GLPAT, sent) == [] and "[REDACTED: " in sent
    kept = outbound.release(text, keep_secrets=True)
    done = deliver(
        kept,
        what="the rerun prompt",
        root=tmp_path,
        role_folders={},
        template="rerun",
        now=FROZEN_NOW,
        terminal=None,
        native=lambda text: CopyResult(True, ""),
    )
    assert done.saved is not None and done.saved.read_text(encoding="utf-8") == text  # the user's choice holds


def test_nothing_leaves_when_the_scanner_cannot_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str) -> list[secrets.Finding]:
        raise secrets.SecretScannerUnavailable("the rules cannot be loaded")

    monkeypatch.setattr(secrets, "scan_text", broken)
    copied: list[str] = []

    def native(text: str) -> CopyResult:
        copied.append(text)
        return CopyResult(True, "")

    done = deliver(
        "hello",
        what="the rerun prompt",
        root=tmp_path,
        role_folders={},
        template="rerun",
        now=FROZEN_NOW,
        terminal=copied.append,
        native=native,
    )
    assert done.how == "failed" and done.saved is None and copied == []
    assert not (tmp_path / "RESTART").exists()


def test_the_saved_support_report_is_gated(tmp_path: Path) -> None:
    path = save_report(tmp_path, {}, f"Error: 401 for token {GLPAT}\nThank you.\n", FROZEN_NOW)
    saved = path.read_text(encoding="utf-8")
    assert pieces(GLPAT, saved) == [] and "[REDACTED: " in saved and saved.endswith("Thank you.\n")


# --- the workbench --------------------------------------------------------------------------------------------


@pytest.fixture
def no_native_clipboard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clipboard, "copy_native", lambda text, timeout=2.0: CopyResult(False, "no tool"))


async def test_the_workbench_copy_of_the_brief_redacts_a_key_cut_in_a_column_name(
    tmp_path: Path, copy_demo, no_native_clipboard: None
) -> None:  # type: ignore[no-untyped-def]
    from liferaft.tui.app import LiferaftApp
    from liferaft.tui.screens.secrets import SecretsScreen
    from tests.test_composer_tui import ready
    from tests.test_prepare_tui import wait_for

    demo = copy_demo(tmp_path / "demo", big_csv_mb=1)
    write(demo / "SOURCE" / "wide.csv", f"id,{FILLER}{SK},x\n1,2,3\n")
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        composer = await ready(app, pilot)
        await pilot.press("t", "t")  # rerun → regenerate → brief
        await wait_for(pilot, lambda: composer.prompt is not None and composer.prompt.template.name == "brief")
        assert composer.prompt is not None and pieces(SK, composer.prompt.text)  # the cut name is in the brief
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: isinstance(app.screen, SecretsScreen))
        await pilot.press("enter")  # redact and copy
        await wait_for(pilot, lambda: app.clipboard != "")
        assert pieces(SK, app.clipboard) == [] and "[REDACTED: " in app.clipboard
        saved = next((demo / "RESTART" / "prompts").glob("*-brief.md")).read_text(encoding="utf-8")
        assert saved == app.clipboard


async def test_the_support_report_copy_holds_no_part_of_a_token(tmp_path: Path, no_native_clipboard: None) -> None:
    from liferaft.tui.app import LiferaftApp
    from liferaft.tui.screens.diagnose.support import SupportScreen
    from tests.test_prepare_tui import wait_for
    from tests.test_tui import settle

    root = tmp_path / "p"
    write(root / "SOURCE" / "a.csv", "a,b\n1,2\n")
    app = LiferaftApp(root, now=lambda: FROZEN_NOW, theme="textual-dark")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, SupportScreen))
        screen = app.screen
        assert isinstance(screen, SupportScreen)
        screen.details = dataclasses.replace(screen.details, error_text=f'{{"gitlab_token": "{GLPAT}"}} 401')
        assert GLPAT in screen.text
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: screen.delivered is not None)
        saved = next((root / "RESTART" / "prompts").glob("*-support-report.md")).read_text(encoding="utf-8")
        assert pieces(GLPAT, saved) == [] and pieces(GLPAT, app.clipboard) == [] and "REDACTED" in saved
        assert any("masked" in n.message for n in app._notifications)


# A generated key of a format no rule knows by its prefix (mixed case, digits), and a lowercase one.
_RNG = random.Random(151)
UNKNOWN_KEY = "".join(_RNG.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(40))
LOWER_KEY = "oy2" + "".join(_RNG.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(43))


@pytest.mark.parametrize("key", [UNKNOWN_KEY, LOWER_KEY], ids=["mixed-case", "lowercase"])
def test_a_generated_key_read_as_a_column_name_is_redacted(tmp_path: Path, key: str) -> None:
    # A credentials export saved without its header: its first row becomes the column names.
    root = tmp_path / "p"
    rows = [f"svc_reporting,{key},2024-03-01,active"]
    rows += [f"svc_etl_{i},rotated,2024-0{i}-01,inactive" for i in range(1, 6)]
    write(root / "SOURCE" / "service_accounts.csv", "\n".join(rows) + "\n")
    text, context = _prompt(root)
    assert key in text
    gated = compose.gate(text, context)
    cleared = gated.release()
    assert pieces(key, cleared.text) == []
    assert "svc_reporting" in cleared.text and "2024-03-01" in cleared.text  # the other names stay
    assert any("column 2" in line for line in gated.lines())


def test_names_checksums_and_uuids_as_column_names_survive(tmp_path: Path) -> None:
    names = ["revenue_2024_q1_adjusted_total", "ProductCategoryName2024Q4", "MultiIndexUInt16Engine",
             "tx_cnt_7d_rllng_mdn_2024", "2024-01-01T00:00:00.000Z",
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
             "9f1c2e0a-7b3d-4c5e-8f6a-1b2c3d4e5f60", "sha256=2HiHIAyacF3MyTe5uDteZ-RwJMSkt_ndFK2ZKQqh4Mw"]
    root = tmp_path / "p"
    write(root / "SOURCE" / "wide.csv", ",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    text, context = _prompt(root)
    assert compose.gate(text, context).findings == []
