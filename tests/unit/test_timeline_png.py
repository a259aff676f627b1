"""The Word report's timeline pictures (reports/timeline_png.py), short and long, one or many.

Over BIG lanes they are drawn in a palette with Pillow's bitmap font, which has Latin-1 only:
a label with typographic quotes, dashes or arrows (as sector and covenant names have) must
still be drawn, not refused, and the pictures must come out the same for the same lanes. A
timeline split into pictures keeps one scale: a day lies at the same x in each of them. Its
lanes are composed as bytes, not drawn: to the pixels the pen draws.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from PIL import Image

from imvo_workflow.domain.definition import load_definition
from imvo_workflow.reports.memo import Memo
from imvo_workflow.reports.timeline import LABEL_WIDTH, LANE, TOP, Lane, Scale, canvas_width
from imvo_workflow.reports.timeline_png import (
    BIG,
    ZOOM,
    _draw,
    _frame,
    _latin1,
    _palette_png,
    _Pen,
    _rgb,
    _Rows,
    height_ratio,
    lanes_fitting,
    timeline_pngs,
)
from imvo_workflow.settings import DEFAULT_STAGES_FILE

DAY = date(2016, 10, 31)
LABEL = "Financiële sector – “Pensioenen” → Verzekeringen … €"
DEFINITION = load_definition(DEFAULT_STAGES_FILE)
COLORS = {name: stage.color for name, stage in DEFINITION.stages.items()}
LABELS = {name: stage.label.nl for name, stage in DEFINITION.stages.items()}
START = date(2015, 1, 1)
#: Lanes a picture holds in the tests (the Word report's page: tests/unit/test_word_timeline.py).
PER = 59


def _lanes(count: int, earliest: date = START) -> list[Lane]:
    """`count` lanes whose bars start on START, the last one's on `earliest`."""
    return [
        Lane(
            f"{LABEL} {n}",
            [("verkenning", earliest if n == count - 1 else START), ("dialoog", date(2016, 3, 1))],
            ((date(2017, 6, 30), "Ondertekening"),),
        )
        for n in range(count)
    ]


def _drawn(lanes: list[Lane], per: int) -> list[bytes]:
    with ThreadPoolExecutor(max_workers=1) as encoder:
        return [f.result() for f in timeline_pngs(lanes, DAY, COLORS, LABELS, per, encoder)]


def _pictures(lanes: list[Lane], per: int = PER) -> list[Image.Image]:
    data = _drawn(lanes, per)
    assert data == _drawn(lanes, per)  # the same bytes every time
    return [Image.open(io.BytesIO(picture)) for picture in data]


def test_a_short_timeline_is_one_smooth_rgb_picture_at_twice_the_size() -> None:
    (picture,) = _pictures(_lanes(3))
    assert picture.mode == "RGB"
    assert picture.height == (TOP + 3 * LANE + 60) * ZOOM


def test_a_long_timeline_is_a_palette_picture_with_every_label_drawn() -> None:
    (picture,) = _pictures(_lanes(BIG + 1), per=BIG + 1)
    assert picture.mode == "P"
    assert picture.height > (BIG + 1) * 20
    # the label column is not blank: the labels were drawn, typography and all
    labels = picture.convert("L").crop((0, 40, 200, picture.height - 80))
    assert labels.getextrema()[0] < 128


@pytest.mark.parametrize(
    ("lanes", "pictures"), [(0, 1), (1, 1), (PER, 1), (PER + 1, 2), (1000, 17)]
)
def test_a_long_timeline_is_split_into_pictures_that_fit(lanes: int, pictures: int) -> None:
    drawn = _pictures(_lanes(lanes))
    assert len(drawn) == pictures
    # each holds PER lanes, the last one the rest, and none is taller than PER lanes make it
    zoom, rest = ZOOM if lanes <= BIG else 1, lanes - PER * (pictures - 1)
    for picture, held in zip(drawn, [PER] * (pictures - 1) + [rest], strict=True):
        assert picture.height == (TOP + held * LANE + 60) * zoom
        assert picture.height / picture.width <= height_ratio(PER, LABELS)


@pytest.mark.parametrize("lanes", [PER + 3, 3 * PER + 2])
def test_every_picture_of_a_timeline_is_on_one_scale(lanes: int) -> None:
    """The last lane starts years before the others: the pictures without it are still drawn
    on the scale of all lanes, so each one's first bar (starting on START) starts at the same
    x, where the scale of all lanes puts START."""
    drawn = _lanes(lanes, earliest=date(2008, 5, 1))
    zoom = ZOOM if lanes <= BIG else 1
    verkenning, row = _rgb(COLORS["verkenning"]), (TOP + LANE // 2) * zoom  # the first bar's middle
    starts = []
    for picture in _pictures(drawn):
        pixels = picture.convert("RGB")
        plot = range(LABEL_WIDTH * zoom, pixels.width)
        starts.append(next(x for x in plot if pixels.getpixel((x, row)) == verkenning))
    assert len(starts) > 1
    assert set(starts) == {int(Scale.of(drawn, DAY).x(START) * zoom)}


def _varied(count: int) -> list[Lane]:
    """Lanes whose bars and diamonds lie at many fractions of a pixel: stages starting on
    different days (one before the axis' first year's, one unknown to the colours, one on the
    report date: a bar of the least width), deadlines on the axis' first day, past its end and
    anywhere between; labels that repeat and labels of their own."""
    lanes = []
    for n in range(count):
        start = date(2009 + n % 7, 1 + n % 12, 1 + n * 7 % 28)
        steps = [("verkenning", start), ("dialoog", date(2014, 1 + n % 12, 1 + n % 28))]
        steps += [("onbekend", date(2015, 3, 1 + n % 28)), ("uitvoering", DAY)][: n % 3]
        marks = ((date(2009, 1, 1), "eerste"), (date(2030, 1, 1), "te laat"))
        marks += tuple((date(2016 + n % 3, 1 + n * 5 % 12, 1 + n % 28), "doel") for _ in "ab")
        lanes.append(Lane(f"{LABEL} {n % 9 if n % 2 else n}", steps, marks[: 2 + n % 4]))
    return lanes


def test_a_long_timelines_composed_rows_are_the_pixels_the_pen_draws() -> None:
    """The long pictures' lanes composed as bytes (_Rows) come out as the pen drew them one
    bar, diamond and label after another: the same palette indices, pixel for pixel."""
    lanes = _varied(BIG + 30)
    scale = Scale.of(lanes, DAY)
    assert scale.first == date(2009, 1, 1)
    drawn = []
    for rows in (False, True):
        pen = _Pen(1, COLORS)
        stage_ink = {stage: pen.inks[_rgb(color)] for stage, color in COLORS.items()}
        x: Memo[date, float] = Memo(scale.x)
        composer = _Rows(pen, canvas_width(LABELS), scale, DAY, stage_ink, x) if rows else None
        pen.resume(_frame(pen, len(lanes), scale, stage_ink, x, LABELS))
        _draw(pen, lanes, scale, DAY, stage_ink, x, composer)
        drawn.append(pen.image.tobytes())
    assert drawn[0] == drawn[1]


def test_how_many_lanes_fit() -> None:
    """As many lanes as a picture of that height over its width holds, and one at least."""
    assert lanes_fitting(height_ratio(PER, LABELS), LABELS) == PER
    assert lanes_fitting(height_ratio(PER, LABELS) - 0.001, LABELS) == PER - 1
    assert lanes_fitting(0.01, LABELS) == 1


def test_the_bitmap_font_gets_plain_typography_and_question_marks_for_the_rest() -> None:
    assert _latin1(LABEL) == 'Financiële sector - "Pensioenen" -> Verzekeringen ... ?'


@pytest.mark.parametrize(("colours", "width"), [(12, 101), (40, 64)])
def test_a_palette_picture_reads_back_as_drawn(colours: int, width: int) -> None:
    """The long timeline's PNG is written here (_palette_png), 4 bits a pixel up to 16 colours
    and 8 above: Pillow must read back every pixel, an odd width's last one too."""
    image = Image.new("P", (width, 30), 0)
    image.putpalette([channel for n in range(colours) for channel in (n, 255 - n, 7 * n % 256)])
    image.putdata([(x * 7 + y * 3) % colours for y in range(30) for x in range(width)])
    back = Image.open(io.BytesIO(_palette_png(image)))
    assert back.mode == "P"
    assert back.convert("RGB").tobytes() == image.convert("RGB").tobytes()
