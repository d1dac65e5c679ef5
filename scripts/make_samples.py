"""Write the sample label PNGs and a sample FHIR Bundle into docs/ (``make samples``).

Run by hand when the labels or the export change; the tests never write tracked files. The
labels are rendered from synthetic content at 300 dpi; the Bundle is one case of the
synthetic demo network, seeded in a throwaway SQLite database, pseudonymised.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "samples"


def main() -> int:
    data = tempfile.mkdtemp(prefix="cartflow-samples-")
    os.environ["CARTFLOW_DATA"] = data
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartflow.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import pypdfium2 as pdfium

    from cartflow.clinic import demo_seed
    from cartflow.clinic.labels import content, pdf
    from cartflow.clinic.models import TherapyCase
    from cartflow.clinic.registry import dictionary_markdown
    from cartflow.clinic.services.fhir_export import export_fhir
    from cartflow.domain.identifiers import new_identifier

    DOCS.mkdir(parents=True, exist_ok=True)
    coi = new_identifier("W9001", 26, 17).compact
    labels = {
        "label-collection-bag": content.collection_bag_label(
            coi=coi,
            label_id="L001",
            iccbba_assigned=False,
            fields=["collection_din", "collected_on"],
            values={"collection_din": "W9002 26 000001", "collected_on": "2026-01-05"},
        ),
        "label-product-bag": content.product_bag_label(
            coi=coi,
            label_id="L002",
            iccbba_assigned=False,
            product="tisagenlecleucel",
            number=1,
            of=2,
            storage_max_celsius=-120.0,
            expires_at=datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
        ),
        "label-shipper": content.shipper_label(
            coi=coi,
            label_id="L004",
            iccbba_assigned=False,
            product="tisagenlecleucel",
            bags=2,
            storage_max_celsius=-120.0,
        ),
    }
    for name, label in labels.items():
        document = pdfium.PdfDocument(pdf.render(label))
        document[0].render(scale=300 / 72).to_pil().save(DOCS / f"{name}.png")
        document.close()
    demo_seed.seed()
    infused = [c for c in TherapyCase.objects.order_by("coi") if c.collections.exists()]
    case = infused[-1]
    (DOCS / "fhir-bundle.json").write_text(export_fhir(case, reader=None, identified=False) + "\n")
    (DOCS / "registry-columns.md").write_text(dictionary_markdown())
    print(f"wrote {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
