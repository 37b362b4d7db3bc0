"""Live watching in the workbench: a file saved in the folder shows up by itself, the folder going away is
said plainly and it is picked up again when it is back."""

from __future__ import annotations

import shutil
from pathlib import Path

from liferaft.core.scan import FileRecord
from liferaft.tui.app import LiferaftApp
from liferaft.tui.project_pane import ProjectPane
from tests.conftest import FROZEN_NOW, write
from tests.test_prepare_tui import rendered, wait_for


def shown_paths(app: LiferaftApp) -> set[str]:
    pane = app.query_one(ProjectPane)
    paths = set()
    for line in range(pane.last_line + 1):
        node = pane.get_node_at_line(line)
        if node is not None and isinstance(node.data, FileRecord):
            paths.add(node.data.path)
    return paths


async def test_a_new_output_shows_up_by_itself(tmp_path: Path) -> None:
    root = tmp_path / "p"
    write(root / "SOURCE/sales.csv", "a,b\n1,2\n")
    (root / "OUTPUT").mkdir()
    app = LiferaftApp(root, now=lambda: FROZEN_NOW, watch=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.watcher is not None and app.watcher.running, tries=250)
        await pilot.pause(0.3)
        write(root / "OUTPUT/chart.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
        await wait_for(pilot, lambda: "OUTPUT/chart.png" in shown_paths(app), tries=250)
        (root / "OUTPUT/chart.png").unlink()
        await wait_for(pilot, lambda: "OUTPUT/chart.png" not in shown_paths(app), tries=250)


async def test_the_folder_going_away_is_said_and_picked_up_again(tmp_path: Path) -> None:
    root = tmp_path / "p"
    write(root / "SOURCE/sales.csv", "a,b\n1,2\n")
    app = LiferaftApp(root, now=lambda: FROZEN_NOW, watch=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.watcher is not None and app.watcher.running, tries=250)
        await pilot.pause(0.3)
        shutil.move(root, tmp_path / "elsewhere")
        await wait_for(pilot, lambda: "folder is gone" in rendered(app.query_one("#status").content, 200),
                       tries=300)
        shutil.move(tmp_path / "elsewhere", root)
        write(root / "SOURCE/more.csv", "a\n1\n")
        await wait_for(pilot, lambda: "SOURCE/more.csv" in shown_paths(app), tries=400)
        assert "folder is gone" not in rendered(app.query_one("#status").content, 200)
