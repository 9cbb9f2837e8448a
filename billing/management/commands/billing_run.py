"""``manage.py billing_run --month YYYY-MM [--dry-run] [--region NN] [--user NAME]``: the
month's run (BILL-1) with a JSON summary on stdout. Idempotent: a second run invoices only what
is new. Acts as ``--user`` (a member of the billing role; default: the first active one), so
the history and the REGION-4 deactivations name who ran it."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.errors import BillingError
from billing.months import month_parse
from billing.services.runs import billing_run, system_context

RUN_PERMISSION = "billing.run_billing"


class Command(BaseCommand):
    help = "Compute and issue (or preview) the month's invoices; prints a JSON summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--dry-run", action="store_true", help="preview, change nothing")
        parser.add_argument("--region", help="only this home region (county code)")
        parser.add_argument("--user", help="the billing officer the run acts as")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            month = month_parse(options["month"])
        except ValueError as error:
            raise CommandError(f"--month: {error}") from error
        user = self._user(options["user"])
        try:
            run = billing_run(
                month=month,
                dry_run=options["dry_run"],
                ctx=system_context(user),
                region_id=options["region"],
            )
        except BillingError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(json.dumps(run.summary, ensure_ascii=False, indent=2, sort_keys=True))

    def _user(self, username: str | None) -> Any:
        users = get_user_model().objects.filter(is_active=True).order_by("pk")
        if username:
            users = users.filter(username=username)
        for user in users:
            if user.has_perm(RUN_PERMISSION):
                return user
        raise CommandError(
            f"--user: no active user {'named ' + username + ' ' if username else ''}"
            "holds the billing role; give one the role or name one with --user."
        )
