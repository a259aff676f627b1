"""The timeline as a PNG, for the Word report: the same lanes, scale and colours as the SVG.

Word cannot show SVG reliably (older versions show nothing; newer ones want a PNG fallback
anyway), and turning our SVG into a PNG needs cairo (cairosvg) or a browser, neither of which
installs from PyPI alone. Pillow does (wheels carry FreeType and a font), so the picture is
drawn again here from the lanes (reports/timeline.Scale gives both drawings one geometry),
at twice the SVG's size for print. Pillow writes the same bytes for the same picture.
"""

from __future__ import annotations

import io
from datetime import date

from PIL import Image, ImageDraw, ImageFont

from imvo_workflow.reports.timeline import LABEL_WIDTH, LANE, TOP, Lane, Scale, canvas_width

#: Twice the SVG's size for print; a long report (hundreds of lanes) at the SVG's own size, in
#: a palette of its few colours and with Pillow's bitmap font, so the picture stays small enough
#: to encode and to open in Word: a thousand lanes in RGB took half a second to encode, and
#: FreeType a third of a second to draw their labels (the bitmap font: a twentieth).
ZOOM = 2
BIG = 100
#: What the bitmap font (Latin-1 only) writes for the typography it lacks.
PLAIN = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "→": "->",
                       "…": "...", "•": "*"})  # fmt: skip
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _latin1(text: str) -> str:
    return text.translate(PLAIN).encode("latin-1", "replace").decode("latin-1")


def _text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, font: Font,
          anchor: str = "la", fill: tuple[int, int, int] = (0, 0, 0)) -> None:  # fmt: skip
    """`text` at `xy` by its anchor (left/right, ascender/baseline), in either font: Pillow's
    bitmap font has no anchors, so its box is placed by hand (its baseline is its bottom)."""
    if isinstance(font, ImageFont.FreeTypeFont):
        draw.text(xy, text, fill=fill, font=font, anchor=anchor)
        return
    text = _latin1(text)
    _, _, width, height = font.getbbox(text)
    x = xy[0] - width if anchor[0] == "r" else xy[0]
    y = xy[1] - height if anchor[1] == "s" else xy[1]
    draw.text((x, y), text, fill=fill, font=font)


def _rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    if len(value) == 3:
        value = "".join(ch * 2 for ch in value)
    try:
        return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))
    except ValueError:
        return (204, 204, 204)


def timeline_png(
    lanes: list[Lane], as_of: date, colors: dict[str, str], labels: dict[str, str]
) -> bytes:
    scale = Scale.of(lanes, as_of)
    zoom = ZOOM if len(lanes) <= BIG else 1
    width = canvas_width(labels) * zoom
    bottom = TOP + LANE * len(lanes)
    height = (bottom + 60) * zoom
    image = Image.new("RGB" if zoom > 1 else "P", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font: Font = (
        ImageFont.load_default(size=11 * zoom) if zoom > 1 else ImageFont.load_default_imagefont()
    )

    inks: dict[tuple[int, int, int], int | tuple[int, int, int]] = {}

    def ink(rgb: tuple[int, int, int]) -> int | tuple[int, int, int]:
        """A colour as the image takes it: a palette index is found once, not per shape."""
        if rgb not in inks:
            palette = image.palette
            inks[rgb] = palette.getcolor(rgb, image) if palette is not None else rgb
        return inks[rgb]

    stage_ink = {stage: ink(_rgb(color)) for stage, color in colors.items()}
    other, black = ink(_rgb("#ccc")), ink((0, 0, 0))

    def x(day: date) -> float:
        return scale.x(day) * zoom

    for tick, label in scale.ticks():
        draw.line(
            [(x(tick), (TOP - 6) * zoom), (x(tick), bottom * zoom)],
            fill=(187, 187, 187),
            width=2 if tick.month == 1 else 1,
        )
        _text(draw, (x(tick) + 2 * zoom, (TOP - 21) * zoom), label, font, fill=(51, 51, 51))
    for row, lane in enumerate(lanes):
        y = (TOP + row * LANE) * zoom
        _text(draw, ((LABEL_WIDTH - 6) * zoom, y + 14 * zoom), lane.label, font, "rs")
        ends = [since for _, since in lane.steps[1:]] + [as_of]
        for (stage, since), until in zip(lane.steps, ends, strict=False):
            left, right = x(max(since, scale.first)), x(until)
            draw.rectangle(
                [left, y + 3 * zoom, max(right, left + 3), y + (LANE - 3) * zoom],
                fill=stage_ink.get(stage, other),
            )
        for day, _ in lane.marks:
            if scale.shows(day):
                cx, cy, r = x(day), y + LANE * zoom / 2, 5 * zoom
                draw.polygon(
                    [(cx, cy - r), (cx + 4 * zoom, cy), (cx, cy + r), (cx - 4 * zoom, cy)],
                    fill=black,
                )
    for part in range(TOP - 6, bottom, 7):  # the report date, dashed
        draw.line(
            [(x(as_of), part * zoom), (x(as_of), min(part + 4, bottom) * zoom)],
            fill="black",
            width=zoom,
        )
    legend = (bottom + 25) * zoom
    draw.polygon(
        [
            ((LABEL_WIDTH - 110) * zoom, legend - 10 * zoom),
            ((LABEL_WIDTH - 105) * zoom, legend - 4 * zoom),
            ((LABEL_WIDTH - 110) * zoom, legend + 2 * zoom),
            ((LABEL_WIDTH - 115) * zoom, legend - 4 * zoom),
        ],
        fill="black",
    )
    _text(draw, ((LABEL_WIDTH - 100) * zoom, legend), "deadline doel", font, "ls")
    for i, (stage, label) in enumerate(labels.items()):
        lx = (LABEL_WIDTH + i * 110) * zoom
        draw.rectangle(
            [lx, legend - 10 * zoom, lx + 12 * zoom, legend + 2 * zoom],
            fill=_rgb(colors.get(stage, "#ccc")),
        )
        _text(draw, (lx + 16 * zoom, legend), label, font, "ls")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=3 if zoom > 1 else 1)
    return out.getvalue()
