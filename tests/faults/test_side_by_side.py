"""Processes side by side: `prepare`, `checkpoint` and role changes running at once, from separate processes,
must all be remembered (each read-modify-write of Liferaft's files happens under its lock, on the file as it
is then)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from liferaft.core.checkpoints import load_checkpoints
from liferaft.core.roles import Role
from liferaft.core.state import load_state
from tests.conftest import HANG, cli_env, write

PREPARERS, ROLE_CHANGERS, EACH, CHECKPOINTS = 3, 3, 8, 6

PREPARER = """
import subprocess, sys
root, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(first, first + count):
    subprocess.run([sys.executable, "-m", "liferaft", "prepare", f"SOURCE/table_{i:02d}.csv", root,
                    "--name", f"clean_{i:02d}"], check=True, capture_output=True)
"""

CHECKPOINTER = """
import subprocess, sys
for i in range(int(sys.argv[2])):
    subprocess.run([sys.executable, "-m", "liferaft", "checkpoint", sys.argv[1], "-m", f"round {i}"], check=True,
                   capture_output=True)
"""

ROLE_CHANGER = """
import sys
from pathlib import Path
from liferaft.core.project import open_project
from liferaft.core.roles import Role
root, first, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
for i in range(first, first + count):
    open_project(root).set_role(f"notes/note_{i:02d}.csv", Role.SOURCE)
"""


def test_prepare_checkpoint_and_roles_at_once_lose_nothing(tmp_path: Path) -> None:
    root = tmp_path / "project"
    tables, notes = PREPARERS * EACH, ROLE_CHANGERS * EACH
    for index in range(max(tables, notes)):
        write(root / "SOURCE" / f"table_{index:02d}.csv", f"a,b\n{index},1\n")
        write(root / "notes" / f"note_{index:02d}.csv", f"x\n{index}\n")
    env = cli_env()
    procs = [subprocess.Popen([sys.executable, "-c", PREPARER, str(root), str(n * EACH), str(EACH)], env=env)
             for n in range(PREPARERS)]
    procs += [subprocess.Popen([sys.executable, "-c", ROLE_CHANGER, str(root), str(n * EACH), str(EACH)], env=env)
              for n in range(ROLE_CHANGERS)]
    procs.append(subprocess.Popen([sys.executable, "-c", CHECKPOINTER, str(root), str(CHECKPOINTS)], env=env))
    for proc in procs:
        assert proc.wait(timeout=HANG * 3) == 0

    loaded = load_state(root)
    assert loaded.warnings == []
    assert sorted(loaded.state.prepared) == [f"SOURCE/table_{i:02d}.csv" for i in range(tables)]
    assert loaded.state.overrides == {f"notes/note_{i:02d}.csv": Role.SOURCE for i in range(notes)}
    checkpoints, warnings = load_checkpoints(root)
    assert warnings == [] and len(checkpoints) == CHECKPOINTS
