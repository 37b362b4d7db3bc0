"""The workbench's results: the workers that check the upload plan, gather what the prompt is made of and assess
what is at risk, and the handlers that put the workers' results on show, on the UI thread (the project itself is
put on show by the workbench)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from functools import partial
from itertools import islice
from typing import Any

from textual import on, work
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.worker import get_current_worker

from liferaft.core.config import Settings
from liferaft.core.pace import busy_for
from liferaft.core.project import Project
from liferaft.core.scan import Inventory, shown_name
from liferaft.core.state import PreparedFrom
from liferaft.core.uploads import UploadPlan, plan_uploads
from liferaft.core.vendor import UploadLimits
from liferaft.tui.messages import (
    ContextFailed,
    ContextGathered,
    PlanChecked,
    PlanCheckFailed,
    ProjectFailed,
    ProjectLoaded,
    RiskAssessed,
    SecretsReady,
)
from liferaft.tui.threads import pacing
from liferaft.tui.widgets.composer_pane import ComposerPane
from liferaft.tui.widgets.project_pane import ProjectPane

TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.core.risk import Risk
    from liferaft.tui.offload import Offload

_NOT_OFFLOADED = object()


class WorkbenchResults(Screen[None]):
    """The workbench's workers and their results, as a part of it (see ``Workbench``): what they need of the rest
    is declared here."""

    project: Project | None
    risk: Risk | None
    settings: Settings
    limits: UploadLimits
    _watch: bool
    _started: float
    _flagged: frozenset[str]
    _offered: set[str]
    _risk_warnings_shown: set[str]
    _offload_wanted: bool
    _offload: Offload | None
    _offload_lock: threading.Lock
    _checked_inventory: Inventory | None

    _update_status: Callable[..., None]
    _project_loaded: Callable[..., None]
    _project_failed: Callable[[BaseException | None], None]
    _show_plan: Callable[..., None]

    # --- the upload check and the prompt's context ------------------------------------------------------

    def _check_uploads(self, project: Project) -> None:
        if project is self.project:
            self._run_upload_check(project.inventory, dict(project.state.prepared))

    @work(thread=True, exclusive=True, exit_on_error=False, group="uploads",
          description="check the files a new chat needs")
    def _run_upload_check(self, inventory: Inventory, prepared: dict[str, PreparedFrom]) -> None:
        worker = get_current_worker()
        try:
            plan = self._offloaded(inventory, "uploads", "check_uploads", inventory, prepared, self.limits)
            if plan is _NOT_OFFLOADED:
                plan = plan_uploads(inventory, prepared, limits=self.limits,
                                    cancelled=pacing(lambda: worker.is_cancelled))
        except Exception as exc:
            if not worker.is_cancelled:
                self.post_message(PlanCheckFailed(exc))
            return
        if plan is not None and not worker.is_cancelled:
            self.post_message(PlanChecked(inventory, plan))

    @work(thread=True, exclusive=True, exit_on_error=False, group="compose",
          description="gather what the prompt is made of")
    def _gather(self, project: Project, inventory: Inventory, plan: UploadPlan) -> None:
        worker = get_current_worker()
        try:
            context = self._offloaded(inventory, "compose", "gather_context", project.root, inventory, plan,
                                      project.name)
            if context is _NOT_OFFLOADED:
                from liferaft.core.compose import gather

                context = gather(project.root, inventory, plan, name=project.name,
                                 cancelled=pacing(lambda: worker.is_cancelled))
        except Exception as exc:
            if not worker.is_cancelled:
                self.post_message(ContextFailed(exc))
            return
        if context is not None and not worker.is_cancelled:
            from liferaft.core.compose import available_names

            available_names(context)  # what the prompt is checked against, made here: not on the UI thread
            self.post_message(ContextGathered(inventory, context))

    def _offloaded(self, inventory: Inventory, kind: str, job: str, *args: object) -> object:
        """In a worker thread: run ``liferaft.tui.offload.<job>(*args)`` in the worker process and return its
        result (None when cancelled meanwhile), or ``_NOT_OFFLOADED`` when this work stays in the thread (worker
        processes off, a project too large to send, or no worker process to be had)."""
        if not self._offload_wanted:
            return _NOT_OFFLOADED
        from liferaft.tui import offload

        if len(inventory.files) > offload.MAX_FILES:
            return _NOT_OFFLOADED
        with self._offload_lock:
            if self._offload is None:
                self._offload = offload.Offload()
            pool = self._offload
        worker = get_current_worker()
        from concurrent.futures.process import BrokenProcessPool

        try:
            return pool.run(kind, getattr(offload, job), *args, cancelled=lambda: worker.is_cancelled)
        except (offload.Unavailable, BrokenProcessPool):  # no worker process (or it died): the thread does it
            self._offload_wanted = False
            return _NOT_OFFLOADED

    # --- what is at risk ------------------------------------------------------------------------------


    @work(thread=True, exclusive=True, exit_on_error=False, group="risk", description="look for outputs at risk")
    def _assess_risk(self, project: Project, inventory: Inventory) -> None:
        from liferaft.core.operations import assess_risk
        from liferaft.core.risk import downloads_to_watch

        worker = get_current_worker()
        # The downloads folder only while watching (never in tests): files that appear there from now on.
        folder = downloads_to_watch(self.settings.other) if self._watch else None
        report = assess_risk(project.root, inventory, downloads_dir=folder, since=self._started)
        _ = report.risk.unsaved_paths  # made here, off the UI thread
        if not worker.is_cancelled:
            self.post_message(RiskAssessed(inventory, report.risk))

    def _show_risk(self, risk: Risk) -> None:
        self.risk = risk
        if self.project is not None:
            self._update_status()
        self.query_one(ProjectPane).set_risk(risk)
        # The first few new ones are all a notice names: after a burst of 50,000 outputs, no list of them all.
        new = list(islice((item for item in risk.unsaved_outputs if item.path and item.path not in self._flagged), 4))
        first_look = not self._flagged and not self._offered and risk.checkpoints == 0
        self._flagged = risk.unsaved_paths
        if new and not first_look:
            names = ", ".join(shown_name(item.name) for item in new[:3]) + (" …" if len(new) > 3 else "")
            self.notify(f"{names}: saved in OUTPUT but not in a checkpoint yet. k records one.",
                        title="Not checkpointed", severity="warning", markup=False, timeout=6)
        offered = [item for item in risk.downloads if item.path and item.path not in self._offered]
        if offered:
            self._offered |= {item.path for item in offered if item.path}
            names = ", ".join(shown_name(item.name) for item in offered[:3])
            self.notify(f"{names} just arrived in your downloads and looks like this project's output: m moves "
                        "it into OUTPUT/.", title="Downloads", markup=False, timeout=10)
        for warning in risk.warnings:
            if warning not in self._risk_warnings_shown:  # once a session: risk is assessed after every change
                self._risk_warnings_shown.add(warning)
                self.notify(warning, severity="warning", markup=False, timeout=8)
        risk.warnings.clear()

    # --- the workers' results, on the UI thread -----------------------------------------------------------

    @contextlib.contextmanager
    def _showing(self) -> Iterator[None]:
        """Around putting a result on show: one arriving while the app closes (the screens are being taken
        down) has nothing left to show it on, and is dropped."""
        try:
            yield
        except NoMatches:
            if self.query(ProjectPane):
                raise  # the panes are there: a real mistake, not a late result

    def _after_key(self, handler: Callable[[Any], None], message: Message) -> bool:
        """True when a key was pressed a moment ago: ``handler`` gets ``message`` once the key's screen is drawn
        (a worker's result redrawn meanwhile, a prompt put together, made the key wait)."""
        wait = busy_for()
        if wait <= 0:
            return False
        self.set_timer(wait, partial(handler, message))
        return True

    def _is_current(self, inventory: Inventory) -> bool:
        """A result for the inventory on show (not one a rescan has replaced since)."""
        return self.app.is_running and self.project is not None and inventory is self.project.inventory

    @on(ProjectLoaded)
    def _on_project_loaded(self, message: ProjectLoaded) -> None:
        if self.app.is_running:  # closing: a late result has no place
            with self._showing():
                self._project_loaded(message.project, message.plan, message.arrangement, unchanged=message.unchanged)

    @on(ProjectFailed)
    def _on_project_failed(self, message: ProjectFailed) -> None:
        if self.app.is_running:
            with self._showing():
                self._project_failed(message.error)

    @on(PlanChecked)
    def _on_plan_checked(self, message: PlanChecked) -> None:
        # A plan for an inventory no longer on show is dropped.
        if self._is_current(message.inventory) and not self._after_key(self._on_plan_checked, message):
            assert self.project is not None
            self._checked_inventory = message.inventory
            with self._showing():
                self._show_plan(message.plan)
                self._gather(self.project, message.inventory, message.plan)

    @on(PlanCheckFailed)
    def _on_plan_check_failed(self, message: PlanCheckFailed) -> None:
        if self.app.is_running:
            error = message.error
            self.notify(f"The upload check stopped: {type(error).__name__}: {error}", severity="warning",
                        markup=False, timeout=8)

    @on(ContextGathered)
    def _on_context_gathered(self, message: ContextGathered) -> None:
        if self._is_current(message.inventory) and not self._after_key(self._on_context_gathered, message):
            with self._showing():
                self.query_one(ComposerPane).set_context(message.context)

    @on(ContextFailed)
    def _on_context_failed(self, message: ContextFailed) -> None:
        if self.app.is_running:
            error = message.error
            self.notify(f"The prompt could not be put together: {type(error).__name__}: {error}",
                        severity="warning", markup=False, timeout=8)

    @on(RiskAssessed)
    def _on_risk_assessed(self, message: RiskAssessed) -> None:
        if self._is_current(message.inventory) and not self._after_key(self._on_risk_assessed, message):
            with self._showing():
                self._show_risk(message.risk)

    @on(SecretsReady)
    def _on_secrets_ready(self) -> None:
        if self.app.is_running:
            with self._showing():
                self.query_one(ComposerPane).refresh_prompt()
