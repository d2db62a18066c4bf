from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from followup import services, sweep


class Command(BaseCommand):
    help = "Skicka de påminnelser som är på tur (samma tjänst som Celery beat kör)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit", type=int, default=1000, help="Högst så många i den här omgången."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sweep.sweep()
        result = services.dispatch(limit=options["limit"])
        self.stdout.write(
            f"Skickade {result.sent}, försöker igen senare {result.retried}, "
            f"misslyckade {result.failed}, fastnade {result.stuck}."
        )
