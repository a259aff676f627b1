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

ZOOM = 2


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
    width = canvas_width(labels) * ZOOM
    bottom = TOP + LANE * len(lanes)
    height = (bottom + 60) * ZOOM
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=11 * ZOOM)

    def x(day: date) -> float:
        return scale.x(day) * ZOOM

    for tick, label in scale.ticks():
        draw.line(
            [(x(tick), (TOP - 6) * ZOOM), (x(tick), bottom * ZOOM)],
            fill=(187, 187, 187),
            width=2 if tick.month == 1 else 1,
        )
        draw.text((x(tick) + 2 * ZOOM, (TOP - 21) * ZOOM), label, fill=(51, 51, 51), font=font)
    for row, lane in enumerate(lanes):
        y = (TOP + row * LANE) * ZOOM
        draw.text(
            ((LABEL_WIDTH - 6) * ZOOM, y + 14 * ZOOM),
            lane.label,
            fill="black",
            font=font,
            anchor="rs",
        )
        ends = [since for _, since in lane.steps[1:]] + [as_of]
        for (stage, since), until in zip(lane.steps, ends, strict=False):
            left, right = x(max(since, scale.first)), x(until)
            draw.rectangle(
                [left, y + 3 * ZOOM, max(right, left + 3), y + (LANE - 3) * ZOOM],
                fill=_rgb(colors.get(stage, "#ccc")),
            )
        for day, _ in lane.marks:
            if scale.shows(day):
                cx, cy, r = x(day), y + LANE * ZOOM / 2, 5 * ZOOM
                draw.polygon(
                    [(cx, cy - r), (cx + 4 * ZOOM, cy), (cx, cy + r), (cx - 4 * ZOOM, cy)],
                    fill="black",
                )
    for part in range(TOP - 6, bottom, 7):  # the report date, dashed
        draw.line(
            [(x(as_of), part * ZOOM), (x(as_of), min(part + 4, bottom) * ZOOM)],
            fill="black",
            width=ZOOM,
        )
    legend = (bottom + 25) * ZOOM
    draw.polygon(
        [
            ((LABEL_WIDTH - 110) * ZOOM, legend - 10 * ZOOM),
            ((LABEL_WIDTH - 105) * ZOOM, legend - 4 * ZOOM),
            ((LABEL_WIDTH - 110) * ZOOM, legend + 2 * ZOOM),
            ((LABEL_WIDTH - 115) * ZOOM, legend - 4 * ZOOM),
        ],
        fill="black",
    )
    draw.text(
        ((LABEL_WIDTH - 100) * ZOOM, legend), "deadline doel", fill="black", font=font, anchor="ls"
    )
    for i, (stage, label) in enumerate(labels.items()):
        lx = (LABEL_WIDTH + i * 110) * ZOOM
        draw.rectangle(
            [lx, legend - 10 * ZOOM, lx + 12 * ZOOM, legend + 2 * ZOOM],
            fill=_rgb(colors.get(stage, "#ccc")),
        )
        draw.text((lx + 16 * ZOOM, legend), label, fill="black", font=font, anchor="ls")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
