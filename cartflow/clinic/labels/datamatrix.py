"""A DataMatrix (ECC 200) whose data is encoded in ASCII mode.

reportlab's own encoder writes C40 and maps the punctuation of C40's shift-2 set wrongly
(``=``, ``<``, ``>`` come out as other characters), and ISBT 128 messages are made of those.
ASCII mode is the plain encoding every reader understands: a character is its code plus one,
a pair of digits is 130 plus their value. Size, Reed-Solomon and placement stay reportlab's.
"""

from __future__ import annotations

from typing import Any

from reportlab.graphics.barcode.ecc200datamatrix import ECC200DataMatrix

PAD: int = 129


class AsciiDataMatrix(ECC200DataMatrix):
    def _encode_c40(self, value: str) -> list[int]:
        codewords: list[int] = []
        i = 0
        while i < len(value):
            pair = value[i : i + 2]
            if len(pair) == 2 and pair.isdigit() and pair.isascii():
                codewords.append(130 + int(pair))
                i += 2
                continue
            if ord(value[i]) > 127:
                raise ValueError("only ASCII characters are encoded")
            codewords.append(ord(value[i]) + 1)
            i += 1
        if len(codewords) > self.cw_data:
            raise ValueError("too much data for the DataMatrix")
        if len(codewords) < self.cw_data:
            codewords.append(PAD)
            # The 253-state randomising of the later pad codewords (ISO/IEC 16022, 5.2.3).
            while len(codewords) < self.cw_data:
                pseudo = ((149 * (len(codewords) + 1)) % 253) + 1
                codewords.append((PAD + pseudo) % 254)
        return codewords


def modules(value: str) -> list[list[int]]:
    """The symbol's modules, bottom row first (PDF coordinates), 1 for a dark module."""
    symbol: Any = AsciiDataMatrix(value=value)
    symbol.validate()
    return [list(row) for row in symbol.encode()]
