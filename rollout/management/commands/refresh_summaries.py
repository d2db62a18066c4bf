from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import ngettext

from rollout import regional


class Command(BaseCommand):
    help = (
        "Räkna om den regionala översiktens sammanställningar nu (workern gör det var 30:e sekund)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="Även de som redan är aktuella.")

    def handle(self, *args: Any, **options: Any) -> None:
        computed = regional.refresh(force=options["all"])
        self.stdout.write(
            ngettext("%(count)d kommun omräknad.", "%(count)d kommuner omräknade.", computed)
            % {"count": computed}
        )
