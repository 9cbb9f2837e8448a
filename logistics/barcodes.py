"""DataMatrix symbols for package labels: a GS1 DataMatrix (FNC1 first, then GTIN (01) and
serial (21)) where a device's GTIN and serial are known, else the order number. Rendered as SVG
path data the label template draws inline (the document fetcher loads no data: URIs)."""

from __future__ import annotations

from typing import Any

from ppf.datamatrix import DataMatrix

FNC1: int = 232


def _ascii_codewords(text: str) -> bytes:
    encoded: bytes = text.encode("datamatrix.ascii")
    return encoded


class GS1Message(str):
    """A GS1 element string: ppf-datamatrix has no GS1 mode, so the ASCII encoding is led by
    the FNC1 codeword that marks the symbol as GS1."""

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        if encoding != "datamatrix.ascii":
            raise ValueError("GS1 data is encoded in ASCII mode only")
        return bytes([FNC1]) + _ascii_codewords(str(self))


def gs1_element_string(gtin: str, serial: str) -> str:
    """(01) the 14-digit GTIN and (21) the serial, last, so no separator is needed."""
    return f"01{gtin.zfill(14)}21{serial}"


def symbol(message: str | GS1Message) -> DataMatrix:
    return DataMatrix(message, codecs=["ascii"])


def svg_path(matrix: Any) -> tuple[str, int]:
    """The dark modules as SVG path data (one horizontal run per ``M x y h n v1 h -n z``) and
    the symbol's side with a one-module quiet zone."""
    commands: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                commands.append(f"M{start + 1} {y + 1}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    side = len(matrix[0]) + 2 if matrix else 2
    return "".join(commands), side


def label_codes(order_number: str, devices: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The label's symbols: a GS1 one per device with a GTIN and a serial, else the order
    number's."""
    codes: list[dict[str, Any]] = []
    for gtin, serial in devices:
        if gtin and serial and serial.isascii():
            path, side = svg_path(symbol(GS1Message(gs1_element_string(gtin, serial))).matrix)
            codes.append(
                {
                    "kind": "gs1",
                    "text": f"(01){gtin.zfill(14)}(21){serial}",
                    "path": path,
                    "side": side,
                }
            )
    if not codes:
        path, side = svg_path(symbol(order_number).matrix)
        codes.append({"kind": "order", "text": order_number, "path": path, "side": side})
    return codes
