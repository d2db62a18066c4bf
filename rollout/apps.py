from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RolloutConfig(AppConfig):
    name = "rollout"
    verbose_name = _("Införande")

    def ready(self) -> None:
        from rollout.sections import workspace_context
        from units import sections

        sections.register(sections.Section("rollout/_workspace.html", workspace_context, order=10))
