"""A label as a one-page PDF at the size it is printed: the ISBT 128 base label, 100 x 100 mm.

The symbols are drawn as vectors (bars and modules as filled rectangles), so a printer at any
resolution prints them sharp; the test renders the page at 300 dpi and reads both back.
"""

from __future__ import annotations

import io
from typing import Final

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from cartflow.clinic.labels.content import LabelContent
from cartflow.clinic.labels.datamatrix import modules

PAGE: Final = (100 * mm, 100 * mm)
MARGIN: Final = 5 * mm
BAR: Final = 0.3 * mm  # the narrowest bar: 3.5 pixels at 300 dpi
MODULE: Final = 0.5 * mm  # a DataMatrix module: 44 of them make a 22 mm square
FONT: Final = "Helvetica"
BOLD: Final = "Helvetica-Bold"


def _wrap(canvas: Canvas, text: str, width: float, font: str, size: float) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if canvas.stringWidth(trial, font, size) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def _eye_readable(canvas: Canvas, content: LabelContent, x: float, y: float) -> None:
    """The identifier grouped as its parts, its check character in a box beside it."""
    din = content.coi
    number = f"{din.facility} {din.year:02d} {din.sequence:06d}"
    canvas.setFont(BOLD, 14)
    canvas.drawString(x, y, number)
    box_x = x + canvas.stringWidth(number, BOLD, 14) + 2 * mm
    canvas.rect(box_x, y - 1.2 * mm, 6 * mm, 6.5 * mm, stroke=1, fill=0)
    canvas.drawCentredString(box_x + 3 * mm, y, din.check_character)


def render(content: LabelContent) -> bytes:
    """The label's PDF."""
    return render_all([content])


def render_all(contents: list[LabelContent]) -> bytes:
    """One PDF, a page per label, in the order given (a print run)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE, pageCompression=0)
    canvas.setTitle(", ".join(f"{c.kind.value} label {c.label_id}" for c in contents))
    for content in contents:
        _draw(canvas, content)
    canvas.save()
    return buffer.getvalue()


def _draw(canvas: Canvas, content: LabelContent) -> None:
    width, height = PAGE
    top = height - MARGIN

    canvas.setFont(BOLD, 8)
    canvas.drawString(MARGIN, top - 3 * mm, content.standard)
    canvas.setFont(FONT, 7)
    canvas.drawRightString(width - MARGIN, top - 3 * mm, content.label_id)
    canvas.setFont(BOLD, 8)
    y = top - 7 * mm
    for line in _wrap(canvas, content.title, width - 2 * MARGIN, BOLD, 8):
        canvas.drawString(MARGIN, y, line)
        y -= 3.5 * mm

    barcode = Code128(content.code128, barHeight=11 * mm, barWidth=BAR, quiet=True)
    barcode.drawOn(canvas, MARGIN - barcode.lquiet + 2 * mm, y - 12 * mm)
    y -= 19 * mm
    _eye_readable(canvas, content, MARGIN + 2 * mm, y)
    y -= 7 * mm

    matrix = modules(content.datamatrix)
    size = len(matrix) * MODULE
    mx, my = width - MARGIN - size, MARGIN
    for row_index, row in enumerate(matrix):
        for col_index, dark in enumerate(row):
            if dark:
                canvas.rect(mx + col_index * MODULE, my + row_index * MODULE, MODULE, MODULE, 0, 1)

    text_width = width - 2 * MARGIN
    for heading, value in content.lines:
        # Beside the DataMatrix the text column is narrower.
        room = text_width - size - 3 * mm if y < my + size + 2 * mm else text_width
        canvas.setFont(BOLD, 7)
        canvas.drawString(MARGIN, y, f"{heading}:")
        y -= 3 * mm
        canvas.setFont(FONT, 7)
        for line in _wrap(canvas, value, room, FONT, 7):
            canvas.drawString(MARGIN + 2 * mm, y, line)
            y -= 3 * mm
    canvas.showPage()
