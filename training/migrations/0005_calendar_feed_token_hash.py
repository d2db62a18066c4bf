"""The private calendar feed keeps only a SHA-256 digest of its token (like units.Invitation).

Existing addresses keep working: their tokens are hashed in place. Going back cannot recover
the tokens, so it gives every feed a new one (its owner makes a new address)."""

import hashlib
import secrets

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def hash_tokens(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    feeds = apps.get_model("training", "CalendarFeed")
    for feed in feeds.objects.only("pk", "token").iterator():
        feeds.objects.filter(pk=feed.pk).update(
            token_hash=hashlib.sha256(feed.token.encode()).hexdigest(), token=None
        )


def new_tokens(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    feeds = apps.get_model("training", "CalendarFeed")
    for feed in feeds.objects.only("pk").iterator():
        feeds.objects.filter(pk=feed.pk).update(token=secrets.token_urlsafe(32), token_hash=None)


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0004_session_checks"),
    ]

    operations = [
        migrations.AddField(
            model_name="calendarfeed",
            name="token_hash",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="calendarfeed",
            name="token",
            field=models.CharField(max_length=64, null=True, unique=True),
        ),
        migrations.RunPython(hash_tokens, new_tokens),
        migrations.RemoveField(
            model_name="calendarfeed",
            name="token",
        ),
        migrations.AlterField(
            model_name="calendarfeed",
            name="token_hash",
            field=models.CharField(max_length=64, unique=True),
        ),
    ]
