"""``manage.py bench_logistics``: the store's work and pages at a region's volume.

In a scratch database (created, migrated and dropped by the command, as the other benchmarks
do), a child process running the product's settings builds the volume
(``logistics.bench_data``: 600 000 devices, 50 000 articles, 5 000 open order lines, stores,
stock levels, delivery areas, patients some of them protected) and measures
(``logistics.bench_measure``): allocate, wave and the pick lists, each step's time and SQL
statements, and the order queue page and the device card against bare one-query views in the
same process. Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from patients.bench import measured_in_child, write_section

VOLUME = ("devices", "articles", "lines", "patients")


class Command(BaseCommand):
    help = "Benchmark logistics: allocate, wave, pick lists of 5 000 lines; queue, device card."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--devices", type=int, default=600_000)
        parser.add_argument("--articles", type=int, default=50_000)
        parser.add_argument("--lines", type=int, default=5_000)
        parser.add_argument("--patients", type=int, default=2_000)
        parser.add_argument("--requests", type=int, default=200, help="timed requests per kind")
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="worker processes rendering the pick lists (default: one per core, as "
            "Celery's prefork pool); 1 renders them in the measuring process",
        )
        parser.add_argument("--write", type=Path, help="update this Markdown file's section")
        parser.add_argument("--keep", action="store_true", help="keep the scratch database")
        # Internal: the child process that builds and measures.
        parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        from logistics.bench_measure import report

        volume = {key: options[key] for key in VOLUME}
        if options["measure"]:
            figures = run(volume, requests=options["requests"], workers=options["workers"])
            self.stdout.write(json.dumps(figures))
            return
        self.stdout.write(f"building {volume} and measuring")
        figures = measured_in_child(
            "bench_logistics",
            suffix="logbench",
            keep=options["keep"],
            arguments=[
                *(f"--{key}={value}" for key, value in volume.items()),
                f"--requests={options['requests']}",
                f"--workers={options['workers']}",
            ],
        )
        text = report(figures, volume=volume, build_s=figures["build_s"])
        self.stdout.write(text)
        if options["write"]:
            write_section(options["write"], "bench_logistics", text)


def run(volume: dict[str, int], *, requests: int, workers: int = 1) -> dict[str, Any]:
    """Build the volume and measure it (in the child, or in a test's database)."""
    from logistics.bench_data import world_build
    from logistics.bench_measure import measure

    started = time.perf_counter()
    world = world_build(**volume)
    build_s = time.perf_counter() - started
    return {**measure(world, requests=requests, workers=workers), "build_s": build_s}
