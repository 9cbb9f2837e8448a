"""``manage.py bench_recall``: a safety notice on an article 20 000 patients hold, among
600 000 devices.

In a scratch database (created, migrated and dropped by the command, as the other benchmarks
do), a child process running the product's settings builds the logistics benchmark's world
(``logistics.bench_data``) and the holders (``logistics.bench_recall_measure``), then measures
publishing the notice (finding every holder, the work orders, the prescribers told) and the
campaign page against a bare one-query view in the same process. Figures go to
docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from patients.bench import measured_in_child, write_section

VOLUME = ("devices", "articles", "patients", "holders")


class Command(BaseCommand):
    help = "Benchmark a safety notice on an article 20 000 patients hold among 600 000 devices."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--devices", type=int, default=600_000)
        parser.add_argument("--articles", type=int, default=50_000)
        parser.add_argument("--patients", type=int, default=2_000)
        parser.add_argument("--holders", type=int, default=20_000)
        parser.add_argument("--requests", type=int, default=200, help="timed requests per kind")
        parser.add_argument("--write", type=Path, help="update this Markdown file's section")
        parser.add_argument("--keep", action="store_true", help="keep the scratch database")
        # Internal: the child process that builds and measures.
        parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        from logistics.bench_recall_measure import report

        volume = {key: options[key] for key in VOLUME}
        if options["measure"]:
            self.stdout.write(json.dumps(run(volume, requests=options["requests"])))
            return
        self.stdout.write(f"building {volume} and measuring")
        figures = measured_in_child(
            "bench_recall",
            suffix="recallbench",
            keep=options["keep"],
            arguments=[
                *(f"--{key}={value}" for key, value in volume.items()),
                f"--requests={options['requests']}",
            ],
        )
        text = report(figures, volume=volume, build_s=figures["build_s"])
        self.stdout.write(text)
        if options["write"]:
            write_section(options["write"], "bench_recall", text)


def run(volume: dict[str, int], *, requests: int) -> dict[str, Any]:
    """Build the volume and measure it (in the child, or in a test's database)."""
    from logistics.bench_data import world_build
    from logistics.bench_recall_measure import measure

    started = time.perf_counter()
    # A few open order lines only: the logistics benchmark measures the store's work.
    world = world_build(
        devices=volume["devices"],
        articles=volume["articles"],
        lines=100,
        patients=volume["patients"],
    )
    build_s = time.perf_counter() - started
    figures = measure(world, holders=volume["holders"], requests=requests)
    return {**figures, "build_s": build_s + figures["holders_s"]}
