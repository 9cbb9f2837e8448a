"""Views of the protection floor, one module per area (patient pages, grants, review, the
unit's protections, held protections)."""
