from django.apps import AppConfig


class JarfallaConfig(AppConfig):
    name = "jarfalla"
    verbose_name = "Järfällamodellen"

    def ready(self) -> None:
        # Registers the Swedish collation on every new SQLite connection.
        from jarfalla import collation  # noqa: F401
