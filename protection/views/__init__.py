"""Views of the protection floor, one module per area (patient pages, grants, review, kinds)."""
