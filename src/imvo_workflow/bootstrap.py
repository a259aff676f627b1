"""Builds what the entrypoints need, once, from settings: never at import time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Engine

from imvo_workflow.db.session import UnitOfWork, make_engine
from imvo_workflow.domain.definition import WorkflowDefinition, load_definition, refuse_stranding
from imvo_workflow.services.queries import stages_in_use
from imvo_workflow.settings import Settings


@dataclass
class App:
    settings: Settings
    definition: WorkflowDefinition
    _engine: Engine | None = field(default=None, repr=False)
    _definition_checked: bool = field(default=False, repr=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(self.engine, readonly=readonly)

    def check_definition(self) -> None:
        """Refuse a definition that would strand stored covenants in a stage it lacks.

        Every process that loads a definition and uses the database (each CLI command that
        reads or writes, `imvo serve`, the scheduler) calls this once at start-up; later calls
        do nothing.
        """
        if self._definition_checked:
            return
        with self.uow(readonly=True) as uow:
            refuse_stranding(self.definition, stages_in_use(conn=uow.conn))
        self._definition_checked = True

    def now(self) -> datetime:
        return self.settings.current_time()

    def today(self) -> date:
        return self.settings.today()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def bootstrap(settings: Settings | None = None) -> App:
    settings = settings or Settings()
    return App(settings=settings, definition=load_definition(settings.stages_file))
