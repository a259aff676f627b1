"""The web's one error table covers every DomainError in the code, with a 4xx.

All modules of imvo_workflow are imported first (a DomainError defined in a module nobody
imported yet would otherwise go unseen); then every subclass, at any depth, must find a status
along its MRO from an entry of its own or an ancestor's, not only the base's 400 default: a new
kind of error is placed in the table on purpose.
"""

from __future__ import annotations

import importlib
import pkgutil

import imvo_workflow
from imvo_workflow.domain.errors import DomainError, Forbidden, NotAuthenticated
from imvo_workflow.web.errors import HTTP_STATUS, http_status


def every_domain_error() -> set[type[DomainError]]:
    for module in pkgutil.walk_packages(imvo_workflow.__path__, "imvo_workflow."):
        if not module.name.endswith("__main__"):  # that one runs the CLI
            importlib.import_module(module.name)
    found: set[type[DomainError]] = set()
    todo = [DomainError]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_every_domain_error_has_its_own_or_an_ancestors_4xx_status() -> None:
    errors = every_domain_error()
    assert Forbidden in errors and len(errors) >= 10  # the walk found the package's errors
    unplaced = [
        cls.__qualname__
        for cls in errors
        if not any(base in HTTP_STATUS for base in cls.__mro__ if base is not DomainError)
    ]
    assert unplaced == [], f"not in web/errors.py's HTTP_STATUS: {unplaced}"
    for cls in errors:
        status = next(HTTP_STATUS[base] for base in cls.__mro__ if base in HTTP_STATUS)
        assert 400 <= status < 500, f"{cls.__qualname__}: {status}"


def test_a_subclass_answers_as_its_nearest_listed_ancestor() -> None:
    from imvo_workflow.domain.errors import UnknownSector

    assert http_status(UnknownSector("natuursteem")) == 404
    assert http_status(Forbidden()) == 403
    assert http_status(NotAuthenticated()) == 401
    assert http_status(DomainError("iets")) == 400


def test_the_domain_carries_no_http_status() -> None:
    assert not [cls for cls in every_domain_error() if "http_status" in vars(cls)]
    assert "http_status" not in vars(DomainError)
