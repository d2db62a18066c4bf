from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from rollout import regional


class Command(BaseCommand):
    help = "Recompute the regional view's summaries now (the worker does it every 30 seconds)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="also those that are up to date")

    def handle(self, *args: Any, **options: Any) -> None:
        computed = regional.refresh(force=options["all"])
        self.stdout.write(f"{computed} municipalities computed")
