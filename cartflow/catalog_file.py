"""The edge where the catalog data file is read: ``load_catalog()`` parses it once and caches it.

The domain never opens files; callers load the catalog here and pass it in.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

from cartflow.domain.catalog import Catalog, CatalogError, parse_catalog

PACKAGED = "data/products.json"


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The catalog in ``path``, or the one packaged with cartflow; parsed once, then cached.

    A malformed file raises :class:`~cartflow.domain.catalog.CatalogError` naming the product
    and the field. The returned catalog is shared: treat it (and its fact values) as read-only.
    """
    return _load(None if path is None else str(Path(path).resolve()))


@lru_cache(maxsize=8)
def _load(path: str | None) -> Catalog:
    if path is None:
        text = resources.files("cartflow").joinpath(PACKAGED).read_text(encoding="utf-8")
        name = "the packaged catalog"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogError(f"catalog: cannot read {path}: {exc.strerror}") from None
        name = path
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(
            f"catalog: {name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(raw, dict):
        raise CatalogError(f"catalog: {name} must hold a JSON object at the top level")
    return parse_catalog(raw)


load_catalog.cache_clear = _load.cache_clear  # type: ignore[attr-defined]
