"""The workbench's at-risk check counts the files an imported chat export generated that OUTPUT lacks."""

from __future__ import annotations

from pathlib import Path

from liferaft.core.project import init_project
from liferaft.core.recover import record
from liferaft.tui.app import LiferaftApp
from tests.conftest import FROZEN_NOW, write
from tests.test_prepare_tui import wait_for


async def test_chat_export_outputs_are_missing_flags(tmp_path: Path) -> None:
    root = tmp_path / "p"
    init_project(root)
    write(root / "OUTPUT" / "summary.csv", "a\n1\n")
    record.record_import(root, {"conversation": {"id": "c1", "title": "Review"}, "uploads": [],
                                "generated": [{"path": "summary.csv"}, {"path": "charts/trend%20line.png"}]})
    app = LiferaftApp(root, now=lambda: FROZEN_NOW, watch=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.risk is not None)
        assert app.risk is not None
        assert [(item.name, item.sources) for item in app.risk.missing_outputs] == [
            ("trend line.png", ("chat export: Review",))]
