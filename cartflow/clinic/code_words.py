"""Code values a page shows (a signature's meaning, a status, a role, a kind) in the reader's
language. The record keeps the code; only the page words it."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

CODE_WORDS: dict[str, Any] = {
    # what a signature means (services/signatures.Meaning)
    "authorship": _("authorship"),
    "review": _("review"),
    "approval": _("approval"),
    "responsibility": _("responsibility"),
    "eligibility sign-off": _("eligibility sign-off"),
    "product release": _("product release"),
    "quality decision": _("quality decision"),
    "exception approval": _("exception approval"),
    "infusion": _("infusion"),
    "password": _("password"),
    # eligibility
    "eligible": _("eligible"),
    "not_eligible": _("not eligible"),
    "needs_information": _("needs information"),
    "positive": _("positive"),
    "negative": _("negative"),
    "newly_diagnosed": _("newly diagnosed"),
    "refractory": _("refractory"),
    "first_relapse": _("first relapse"),
    "second_or_later_relapse": _("second or later relapse"),
    "anti_cd38": _("anti-CD38 antibody"),
    "anti_cd20": _("anti-CD20 antibody"),
    "immunomodulatory_agent": _("immunomodulatory agent"),
    "proteasome_inhibitor": _("proteasome inhibitor"),
    "bcl2_inhibitor": _("BCL-2 inhibitor"),
    "btk_inhibitor": _("BTK inhibitor"),
    "anthracycline": _("anthracycline"),
    "alkylating_agent": _("alkylating agent"),
    "autologous_transplant": _("autologous transplant"),
    "allogeneic_transplant": _("allogeneic transplant"),
    "lenalidomide": _("lenalidomide"),
    # drugs of lymphodepletion
    "fludarabine": _("fludarabine"),
    "cyclophosphamide": _("cyclophosphamide"),
    "bendamustine": _("bendamustine"),
    # roles
    "physician": _("physician"),
    "coordinator": _("coordinator"),
    "apheresis": _("apheresis nurse"),
    "manufacturing": _("manufacturing"),
    "courier": _("courier"),
    "pharmacy": _("pharmacy or infusion nurse"),
    "quality": _("quality reviewer"),
    "auditor": _("auditor"),
    "admin": _("administrator"),
    # the bedside check
    "confirmed": _("confirmed"),
    "chain of identity": _("chain of identity"),
    "chain_of_identity": _("chain of identity"),
    "record number": _("record number"),
    "record_number": _("record number"),
    "din": _("donation identification number"),
    # sex, as registered
    "female": _("female"),
    "male": _("male"),
    "unknown": _("unknown"),
    # access holders
    "patient": _("patient"),
    "guardian": _("parent or guardian"),
    # sites
    "treatment_center": _("treatment centre"),
    "apheresis_unit": _("apheresis unit"),
    "manufacturing_site": _("manufacturing site"),
    # labels and where a printed label is
    "printed": _("printed, not yet accounted for"),
    "applied": _("applied"),
    "voided": _("voided"),
    "reprinted": _("replaced by a reprint"),
    "collection_bag": _("collection bag"),
    "product_bag": _("product bag"),
    "shipper": _("shipper"),
    # toxicity
    "crs": _("CRS"),
    "icans": _("ICANS"),
    "tocilizumab": _("tocilizumab"),
    "corticosteroids": _("corticosteroids"),
    "anakinra": _("anakinra"),
    "siltuximab": _("siltuximab"),
    "other": _("other"),
    # the response to the therapy, and how it was assessed
    "complete_remission": _("complete remission"),
    "complete_remission_incomplete_recovery": _(
        "complete remission with incomplete blood count recovery"
    ),
    "partial_response": _("partial response"),
    "very_good_partial_response": _("very good partial response"),
    "stable_disease": _("stable disease"),
    "progressive_disease": _("progressive disease"),
    "relapse": _("relapse"),
    "not_evaluable": _("not evaluable"),
    "bone_marrow": _("bone marrow examination"),
    "flow_mrd": _("minimal residual disease by flow cytometry"),
    "ngs_mrd": _("minimal residual disease by sequencing (NGS)"),
    "pet_ct": _("PET-CT"),
    "ct": _("CT"),
    "serum_protein": _("serum protein studies"),
    "clinical": _("clinical assessment"),
    # deviations and exceptions
    "scan_mismatch": _("scan mismatch"),
    "bedside_scan_mismatch": _("bedside scan mismatch"),
    "out_of_specification": _("out of specification"),
    "off_label": _("off-label use"),
    "ld_omitted": _("lymphodepletion omitted"),
    "quarantine": _("quarantine"),
    "label rule": _("label rule"),
    "site policy": _("site policy"),
    "label": _("label rule"),
    "site_policy": _("site policy"),
}


CATALOG_TEXT: dict[str, Any] = {
    # the catalog's "use when" of an alternative lymphodepleting regimen (cy-flu)
    "prior grade 4 haemorrhagic cystitis on cyclophosphamide, or disease refractory to a "
    "cyclophosphamide-containing regimen": _(
        "prior grade 4 haemorrhagic cystitis on cyclophosphamide, or disease refractory to a "
        "cyclophosphamide-containing regimen"
    ),
}
"""The catalog's few sentences a page shows, in the reader's language."""


def catalog_text(text: Any) -> str:
    """A sentence of the catalog in the reader's language where it is translated, else as the
    catalog words it."""
    words = CATALOG_TEXT.get(str(text))
    return str(words) if words is not None else str(text)


SOURCE_PREFIXES: tuple[tuple[str, Any], ...] = (
    ("label source ", _("label source ")),
    ("label ", _("label ")),
    ("site protocol", _("site protocol")),
    ("site policy", _("site policy")),
    ("no source", _("no source")),
)


SOURCE_PHRASES: tuple[tuple[str, Any], ...] = (
    (
        "FDA guidance on long-term follow-up after human gene therapy products: 15 years",
        _("FDA guidance on long-term follow-up after human gene therapy products: 15 years"),
    ),
    (" (infusion window); repeat rule: ", _(" (infusion window); repeat rule: ")),
    ("cartflow journey policy", _("cartflow journey policy")),
    ("chain-of-identity policy", _("chain-of-identity policy")),
    ("signature policy", _("signature policy")),
    ("patient access policy", _("patient access policy")),
    (", Follow-up)", _(", Follow-up)")),
)
"""The journey's own sources (``domain/journey/guards.py``), worded in the reader's language;
the documents they name stay as they are."""


def source_words(text: Any) -> str:
    """Where a rule comes from (``label source [9], [16]``) with its words in the reader's
    language; the source keys stay as they are."""
    words = str(text)
    for prefix, translated in SOURCE_PREFIXES:
        if words.startswith(prefix):
            words = str(translated) + words.removeprefix(prefix)
            break
    for phrase, translated in SOURCE_PHRASES:
        if phrase in words:
            words = words.replace(phrase, str(translated))
    return words


def code_words(code: Any) -> str:
    """A code value in words: its translation where one is known, else its words."""
    text = str(code)
    words = CODE_WORDS.get(text)
    return str(words) if words is not None else text.replace("_", " ")
