"""The Word report's timeline: a picture for each page it needs, each fitting its page.

A timeline taller than a page ran off it (a thousand lanes made one picture of 295 cm); it is
split into pictures of the lanes a page holds, each with its caption. The seed's report (21
lanes) fits one page and keeps the document it had before the split: its text part and its
picture's pixels as recorded from that document (the zip's bytes are left out: they depend
on the zlib that compressed them).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date

import pytest
from docx import Document
from PIL import Image

from imvo_workflow.bootstrap import App
from imvo_workflow.domain.definition import load_definition
from imvo_workflow.reports.progress import ProgressReport, build_report
from imvo_workflow.reports.timeline import Lane
from imvo_workflow.reports.timeline_png import lanes_fitting
from imvo_workflow.reports.word import (
    A4_HEIGHT,
    CAPTION,
    CAPTION_ROOM,
    LINE_SPACING,
    PICTURE_WIDTH,
    picture_room,
    render_docx,
)
from imvo_workflow.services.seed import seed
from imvo_workflow.services.seedfile import SEED_2016
from imvo_workflow.settings import DEFAULT_STAGES_FILE

DEFINITION = load_definition(DEFAULT_STAGES_FILE)
LABELS = {name: stage.label.nl for name, stage in DEFINITION.stages.items()}
DAY = date(2016, 11, 1)
#: The lanes a page holds: python-docx's Letter page (shorter than A4) within its margins.
PER_PAGE = 59
#: The seed's report of 1 November 2016 before the split (commit 81b1dd1): sha256 of its
#: word/document.xml, and its picture's size and sha256 of its RGB pixels.
SEED_DOCUMENT = "e1f887110770bc96834cf4648341af911c023172eedf2ef0239b4145321ec8c0"
SEED_PICTURE = ((2250, 1020), "375645a7c2fb547b594aeea60707c376d6819e1322b9505c8dc3d8dfcb9fdb37")


def _lanes(count: int) -> list[Lane]:
    return [
        Lane(f"Sector {n}", [("verkenning", date(2015, 1, 1)), ("dialoog", date(2016, 3, 1))])
        for n in range(count)
    ]


def test_a_page_holds_fifty_nine_lanes() -> None:
    assert lanes_fitting(picture_room(Document()), LABELS) == PER_PAGE


@pytest.mark.parametrize(
    ("lanes", "pictures"), [(1, 1), (PER_PAGE, 1), (PER_PAGE + 1, 2), (1000, 17)]
)
def test_the_timeline_has_a_picture_for_each_page(lanes: int, pictures: int) -> None:
    report = ProgressReport(as_of=DAY, known_at=False, lanes=_lanes(lanes))
    doc = Document(io.BytesIO(render_docx(report, DEFINITION)))
    assert len(doc.inline_shapes) == pictures
    captions = [p.text for p in doc.paragraphs if p.style is not None and p.style.name == "Caption"]
    parts = (
        [f" (deel {k} van {pictures})" for k in range(1, pictures + 1)] if pictures > 1 else [""]
    )
    assert captions == [CAPTION.format(part=part) for part in parts]
    section = doc.sections[-1]
    assert section.page_height and section.top_margin and section.bottom_margin
    room = min(A4_HEIGHT, section.page_height) - section.top_margin - section.bottom_margin
    for shape in doc.inline_shapes:
        assert shape.width == PICTURE_WIDTH
        assert shape.height * LINE_SPACING + CAPTION_ROOM <= room


def test_the_seed_report_keeps_its_one_picture(app: App) -> None:
    seed(uow=app.uow(), definition=app.definition, path=SEED_2016, now=app.now())
    report = build_report(uow=app.uow(readonly=True), definition=app.definition, as_of=DAY)
    with zipfile.ZipFile(io.BytesIO(render_docx(report, app.definition))) as archive:
        document = archive.read("word/document.xml")
        (media,) = [name for name in archive.namelist() if name.startswith("word/media/")]
        picture = Image.open(io.BytesIO(archive.read(media)))
    assert hashlib.sha256(document).hexdigest() == SEED_DOCUMENT
    assert (picture.size, hashlib.sha256(picture.tobytes()).hexdigest()) == SEED_PICTURE
