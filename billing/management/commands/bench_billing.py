"""``manage.py bench_billing``: a month for a large region, 600 000 devices on rent and
20 000 other charge events computed, invoiced and validated (issue 12).

In a scratch database (created, migrated and dropped, as the other benchmarks do) a child
process builds the world (``billing.bench``) and measures the charge derivation against a
bare INSERT … SELECT of the same rent rows, the run that invoices and issues, and the Peppol
validation per invoice against a bare lxml parse, with the peak resident memory. Figures go
to docs/performance.md."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from patients.bench import measured_in_child, write_section


class Command(BaseCommand):
    help = "Benchmark a billing month: 600 000 devices on rent and 20 000 other charges."

    def add_arguments(self, parser: CommandParser) -> None:
        # The logistics world lends half its devices: 1 200 000 puts the 600 000 on rent.
        parser.add_argument("--devices", type=int, default=1_200_000)
        parser.add_argument("--events", type=int, default=20_000)
        # The logistics world opens one episode per unit and patient: at 600 000 devices it
        # needs this many patients to place them all.
        parser.add_argument("--patients", type=int, default=40_000)
        parser.add_argument("--write", type=Path, help="update this Markdown file's section")
        parser.add_argument("--keep", action="store_true", help="keep the scratch database")
        parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        volume = {key: options[key] for key in ("devices", "events", "patients")}
        if options["measure"]:
            self.stdout.write(json.dumps(run(volume)))
            return
        self.stdout.write(f"building {volume} and measuring")
        figures = measured_in_child(
            "bench_billing",
            suffix="billbench",
            keep=options["keep"],
            arguments=[f"--{key}={value}" for key, value in volume.items()],
        )
        text = report(figures, volume=volume)
        self.stdout.write(text)
        if options["write"]:
            write_section(options["write"], "bench_billing", text)


def run(volume: dict[str, int]) -> dict[str, Any]:
    """Build the volume and measure it (in the child, or in a test's database)."""
    import time

    from billing.bench import measure, world_build

    started = time.perf_counter()
    world = world_build(
        devices=volume["devices"], events=volume["events"], patients=volume["patients"]
    )
    build_s = time.perf_counter() - started
    return {**measure(world), "build_s": build_s}


def _met(value: float, aim: float) -> str:
    return "met" if value <= aim else "missed"


def report(figures: dict[str, Any], *, volume: dict[str, int]) -> str:
    validation = figures["validation"]
    world = figures["world"]
    compute_ratio = figures["compute_s"] / max(figures["bare_insert_select_s"], 1e-9)
    validate_ratio = validation["validate_ms"] / max(validation["bare_parse_ms"], 1e-9)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    args = (
        f"--devices {volume['devices']} --events {volume['events']} --patients {volume['patients']}"
    )
    return "\n".join(
        [
            "<!-- bench_billing:start -->",
            "## A billing month (`make bench-billing`)",
            "",
            f"Command: `python manage.py bench_billing {args} --write docs/performance.md`"
            " (`make bench-billing` at full volume).",
            f"Load average at the end: {load} (2 cores shared).",
            "",
            f"World: {world['rent_lines']} devices on rent, {world['sale_lines']} other charge "
            f"events (sales in the month); built in {figures['build_s']:.1f} s.",
            "",
            "| step | time | bare baseline | ratio |",
            "|---|---|---|---|",
            f"| charge derivation (`charges_compute`), {figures['created']} events | "
            f"{figures['compute_s']:.2f} s | INSERT … SELECT of the rent rows "
            f"{figures['bare_insert_select_s']:.2f} s | {compute_ratio:.1f} |",
            f"| run: compute again (idempotent), invoice, validate, issue | "
            f"{figures['run_s']:.2f} s | - | - |",
            f"| validation per invoice ({validation['invoices']} invoices, "
            f"{figures['invoice_lines']} lines) | {validation['validate_ms']:.1f} ms | "
            f"bare lxml parse {validation['bare_parse_ms']:.2f} ms | {validate_ratio:.0f} |",
            "",
            f"Peak RSS: {figures['rss_before_mb']:.0f} MB after the build, "
            f"{figures['rss_compute_mb']:.0f} MB after the derivation, "
            f"{figures['rss_peak_mb']:.0f} MB at the end.",
            f"Whole month (derivation + run): {figures['compute_s'] + figures['run_s']:.1f} s "
            f"(aim: under 5 minutes, {_met(figures['compute_s'] + figures['run_s'], 300)}); "
            f"validation aim 10 ms per invoice {_met(validation['validate_ms'], 10)}.",
            "",
            "Validation by invoice size (the run's invoice with its first line repeated, best of"
            " three; the copies' totals no longer match, so only their time counts):",
            "",
            "| lines | validation |",
            "|---:|---:|",
            *(
                f"| {row['lines']} | {row['validate_ms']:.1f} ms |"
                for row in figures.get("validation_scaling", [])
            ),
            "<!-- bench_billing:end -->",
        ]
    )
