"""The sample catalogue, loaded through the import as the demo loads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from prescriptions.services.catalogue import CatalogueImportReport, catalogue_import


@pytest.fixture
def sample_catalogue(shared_dir: Path) -> CatalogueImportReport:
    return catalogue_import(
        path=shared_dir / "data" / "catalogue.csv",
        product_areas_path=shared_dir / "data" / "product_areas.csv",
    )
