"""The board: each stage's column with its count and first cards, filters, and more cards on
demand, at 10,000 covenants (services/listing.py reads a page at a time).

"Meer laden" is a plain link that opens the board with that column at its next page, so it
works without JavaScript; with htmx it fetches only the next cards (GET /bord/meer) and puts
them in place of the link.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.services import listing
from imvo_workflow.web.pages import Imvo, Viewer, page

router = APIRouter(include_in_schema=False)


@router.get("/")
def board(
    request: Request,
    app: Imvo,
    user: Viewer,
    groep: str = "",
    te_laat: str = "",
    zoek: str = "",
    kolom: str = "",
    na: str = "",
) -> HTMLResponse:
    """Each stage's count and first cards; `kolom` and `na` open one column at a later page
    (the "meer laden" link, for a browser without JavaScript)."""
    chosen = listing.Filter(groep, bool(te_laat), zoek.strip())
    paged = (kolom, na) if kolom in app.definition.stages and na else None
    with app.uow(readonly=True) as uow:
        numbers, pages = listing.columns(
            conn=uow.conn,
            today=app.today(),
            stages=app.definition.stages,
            chosen=chosen,
            paged=paged,
        )
    return page(
        request,
        "board.html",
        user,
        active="bord",
        stages=list(app.definition.stages.items()),
        numbers=numbers,
        pages=pages,
        paged=paged[0] if paged else None,
        filters=_board_filters(chosen),
        group=groep,
        only_overdue=bool(te_laat),
        search=chosen.search,
        today=app.today(),
    )


@router.get("/bord/meer")
def board_more(
    request: Request,
    app: Imvo,
    user: Viewer,
    fase: str,
    na: str,
    groep: str = "",
    te_laat: str = "",
    zoek: str = "",
) -> HTMLResponse:
    """The next cards of one column and the link after them (htmx swaps them in)."""
    if fase not in app.definition.stages:
        raise InvalidInput(f"Onbekende fase '{fase}'.")
    chosen = listing.Filter(groep, bool(te_laat), zoek.strip(), fase)
    with app.uow(readonly=True) as uow:
        found = listing.page(
            conn=uow.conn, today=app.today(), chosen=chosen, after=na, limit=listing.BOARD_PAGE
        )
    return page(
        request,
        "_cards.html",
        user,
        found=found,
        stage=fase,
        spec=app.definition.stages[fase],
        filters=_board_filters(chosen),
    )


def _board_filters(chosen: listing.Filter) -> str:
    """The board's filters as a query string, for its links (empty: no filter)."""
    given = {"groep": chosen.group, "te_laat": "1" if chosen.overdue else "", "zoek": chosen.search}
    return urlencode({k: v for k, v in given.items() if v})
