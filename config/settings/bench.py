"""The load benchmark's web process (``manage.py bench_load``): the development settings with
the benchmark URLs, the product's own plus the bare comparison view (``protection.bench``),
so that the ceiling goes through the same server, middleware and template as the pages."""

from __future__ import annotations

from config.settings.dev import *  # noqa: F403

ROOT_URLCONF = "protection.bench"
