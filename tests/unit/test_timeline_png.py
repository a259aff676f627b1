"""The Word report's timeline picture (reports/timeline_png.py), short and long.

Over BIG lanes it is drawn in a palette with Pillow's bitmap font, which has Latin-1 only:
a label with typographic quotes, dashes or arrows (as sector and covenant names have) must
still be drawn, not refused, and both pictures must come out the same for the same lanes.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image

from imvo_workflow.domain.definition import load_definition
from imvo_workflow.reports.timeline import Lane
from imvo_workflow.reports.timeline_png import BIG, _latin1, _palette_png, timeline_png
from imvo_workflow.settings import DEFAULT_STAGES_FILE

DAY = date(2016, 10, 31)
LABEL = "Financiële sector – “Pensioenen” → Verzekeringen … €"


def _picture(lanes: int) -> Image.Image:
    definition = load_definition(DEFAULT_STAGES_FILE)
    colors = {name: stage.color for name, stage in definition.stages.items()}
    labels = {name: stage.label.nl for name, stage in definition.stages.items()}
    lanes_ = [
        Lane(
            f"{LABEL} {n}",
            [("verkenning", date(2015, 1, 1)), ("dialoog", date(2016, 3, 1))],
            ((date(2017, 6, 30), "Ondertekening"),),
        )
        for n in range(lanes)
    ]
    data = timeline_png(lanes_, DAY, colors, labels)
    assert data == timeline_png(lanes_, DAY, colors, labels)  # the same bytes every time
    return Image.open(io.BytesIO(data))


def test_a_short_timeline_is_smooth_rgb_at_twice_the_size() -> None:
    picture = _picture(3)
    assert picture.mode == "RGB"


def test_a_long_timeline_is_a_palette_picture_with_every_label_drawn() -> None:
    picture = _picture(BIG + 1)
    assert picture.mode == "P"
    assert picture.height > (BIG + 1) * 20
    # the label column is not blank: the labels were drawn, typography and all
    labels = picture.convert("L").crop((0, 40, 200, picture.height - 80))
    assert labels.getextrema()[0] < 128


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
