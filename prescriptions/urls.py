from django.urls import URLPattern, URLResolver, path

from prescriptions.views import catalogue

Patterns = tuple[list[URLPattern | URLResolver], str]

# The catalogue: search and article pages.
catalogue_patterns: Patterns = (
    [
        path("", catalogue.catalogue_search_view, name="search"),
        path("articles/<str:article_number>/", catalogue.article_detail_view, name="article"),
    ],
    "catalogue",
)

# The prescriber's pages: a patient's devices and prescriptions, building and submitting one,
# my prescriptions.
prescription_patterns: Patterns = ([], "prescriptions")
