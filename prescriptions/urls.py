from django.urls import URLPattern, URLResolver

Patterns = tuple[list[URLPattern | URLResolver], str]

# The catalogue: search and article pages.
catalogue_patterns: Patterns = ([], "catalogue")

# The prescriber's pages: a patient's devices and prescriptions, building and submitting one,
# my prescriptions.
prescription_patterns: Patterns = ([], "prescriptions")
