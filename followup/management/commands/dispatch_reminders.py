from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from followup import services, sweep


class Command(BaseCommand):
    help = "Skicka de påminnelser som är på tur (samma tjänst som Celery beat kör)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit", type=int, default=1000, help="Högst så många i den här omgången (minst 1)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # A sweep that may send nothing would still count as a dispatch and keep /healthz/ green.
        if options["limit"] < 1:
            raise CommandError(_("--limit måste vara minst 1."))
        sweep.sweep()
        result = services.dispatch(limit=options["limit"])
        self.stdout.write(
            _(
                "Skickade %(sent)d, försöker igen senare %(retried)d, misslyckade %(failed)d, "
                "fastnade %(stuck)d, inte längre önskade %(withheld)d."
            )
            % {
                "sent": result.sent,
                "retried": result.retried,
                "failed": result.failed,
                "stuck": result.stuck,
                "withheld": result.withheld,
            }
        )
