"""Every label type round-trips: the PDF rendered at 300 dpi, both symbols found and decoded
by zxing-cpp, and each parsed by cartflow's own identifier parser to the identifier printed."""

from __future__ import annotations

from datetime import UTC, datetime

import pypdfium2 as pdfium
import pytest
import zxingcpp

from cartflow.clinic.labels import content, pdf
from cartflow.clinic.labels.content import LabelContent
from cartflow.domain.identifiers import new_identifier, parse_identifier
from cartflow.domain.isbt128 import split_compound_message

COI = new_identifier("W9001", 26, 17)
# Synthetic values in the shape a record holds, so a leak onto a product label is visible.
NAME = "Synthetic Testperson-X"
BORN = "1950-01-01"
RECORD = "SYN-MRN-4242"


def _labels() -> list[LabelContent]:
    return [
        content.collection_bag_label(
            coi=COI.compact,
            label_id="L001",
            iccbba_assigned=False,
            fields=["patient_name", "birth_date", "record_number", "collected_on"],
            values={
                "patient_name": NAME,
                "birth_date": BORN,
                "record_number": RECORD,
                "collected_on": "2026-01-05",
            },
        ),
        content.product_bag_label(
            coi=COI.compact,
            label_id="L002",
            iccbba_assigned=True,
            product="tisagenlecleucel",
            number=2,
            of=3,
            storage_max_celsius=-120.0,
            expires_at=datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
        ),
        content.shipper_label(
            coi=COI.compact,
            label_id="L003",
            iccbba_assigned=False,
            product="tisagenlecleucel",
            bags=3,
            storage_max_celsius=-120.0,
        ),
    ]


def _page(data: bytes) -> tuple[object, str]:
    document = pdfium.PdfDocument(data)
    try:
        page = document[0]
        width, height = page.get_size()
        image = page.render(scale=300 / 72).to_pil()
        text = page.get_textpage().get_text_range()
        assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (100, 100)
        return image, text
    finally:
        document.close()


@pytest.mark.parametrize("label", _labels(), ids=lambda label: label.kind.value)
def test_both_symbols_decode_to_exactly_the_printed_identifier(label: LabelContent) -> None:
    image, text = _page(pdf.render(label))
    found = {r.format.name: r.text for r in zxingcpp.read_barcodes(image)}
    assert set(found) == {"Code128", "DataMatrix"}
    assert parse_identifier(found["Code128"]) == COI
    structures = split_compound_message(found["DataMatrix"])
    assert parse_identifier(structures[0]) == COI
    assert found["DataMatrix"] == label.datamatrix
    # The eye-readable form, its check character printed apart (in its box).
    assert "W9001 26 000017" in text and COI.check_character in text


def test_the_product_bag_label_holds_expiry_and_bag_number() -> None:
    image, text = _page(pdf.render(_labels()[1]))
    found = {r.format.name: r.text for r in zxingcpp.read_barcodes(image)}
    assert split_compound_message(found["DataMatrix"])[1] == "&>0263351200"
    assert "2 of 3" in text and "-120" in text and "ISBT 128" in text


@pytest.mark.parametrize("label", _labels()[1:], ids=lambda label: label.kind.value)
def test_a_product_or_shipper_label_never_names_the_patient(label: LabelContent) -> None:
    _image, text = _page(pdf.render(label))
    for secret in (NAME, "Testperson", BORN, RECORD):
        assert secret not in text


def test_the_apheresis_label_prints_the_sites_chosen_fields_only() -> None:
    label = content.collection_bag_label(
        coi=COI.compact,
        label_id="L009",
        iccbba_assigned=False,
        fields=["record_number"],
        values={"patient_name": NAME, "record_number": RECORD},
    )
    _image, text = _page(pdf.render(label))
    assert RECORD in text and NAME not in text


def test_a_demo_site_prints_isbt_128_structure() -> None:
    _image, text = _page(pdf.render(_labels()[2]))
    assert "ISBT 128 structure" in text
