"""Builds what the entrypoints need, once, from settings: never at import time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Engine

from imvo_workflow.db.session import UnitOfWork, make_engine
from imvo_workflow.domain.definition import WorkflowDefinition, load_definition
from imvo_workflow.settings import Settings


@dataclass
class App:
    settings: Settings
    definition: WorkflowDefinition
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(self.engine, readonly=readonly)

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
