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

#: Twice the SVG's size for print; a long report (hundreds of lanes) at the SVG's own size and
#: in a palette of its few colours (text not smoothed), so the picture stays small enough to
#: encode and to open in Word: a thousand lanes in RGB took half a second to encode.
ZOOM = 2
BIG = 100


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
    font = ImageFont.load_default(size=11 * zoom)

    def x(day: date) -> float:
        return scale.x(day) * zoom

    for tick, label in scale.ticks():
        draw.line(
            [(x(tick), (TOP - 6) * zoom), (x(tick), bottom * zoom)],
            fill=(187, 187, 187),
            width=2 if tick.month == 1 else 1,
        )
        draw.text((x(tick) + 2 * zoom, (TOP - 21) * zoom), label, fill=(51, 51, 51), font=font)
    for row, lane in enumerate(lanes):
        y = (TOP + row * LANE) * zoom
        draw.text(
            ((LABEL_WIDTH - 6) * zoom, y + 14 * zoom),
            lane.label,
            fill="black",
            font=font,
            anchor="rs",
        )
        ends = [since for _, since in lane.steps[1:]] + [as_of]
        for (stage, since), until in zip(lane.steps, ends, strict=False):
            left, right = x(max(since, scale.first)), x(until)
            draw.rectangle(
                [left, y + 3 * zoom, max(right, left + 3), y + (LANE - 3) * zoom],
                fill=_rgb(colors.get(stage, "#ccc")),
            )
        for day, _ in lane.marks:
            if scale.shows(day):
                cx, cy, r = x(day), y + LANE * zoom / 2, 5 * zoom
                draw.polygon(
                    [(cx, cy - r), (cx + 4 * zoom, cy), (cx, cy + r), (cx - 4 * zoom, cy)],
                    fill="black",
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
    draw.text(
        ((LABEL_WIDTH - 100) * zoom, legend), "deadline doel", fill="black", font=font, anchor="ls"
    )
    for i, (stage, label) in enumerate(labels.items()):
        lx = (LABEL_WIDTH + i * 110) * zoom
        draw.rectangle(
            [lx, legend - 10 * zoom, lx + 12 * zoom, legend + 2 * zoom],
            fill=_rgb(colors.get(stage, "#ccc")),
        )
        draw.text((lx + 16 * zoom, legend), label, fill="black", font=font, anchor="ls")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=3 if zoom > 1 else 1)
    return out.getvalue()
