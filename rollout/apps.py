from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RolloutConfig(AppConfig):
    name = "rollout"
    verbose_name = _("Införande")

    def ready(self) -> None:
        from rollout.sections import unit_list_values, workspace_context
        from units import sections

        sections.register(sections.Section("rollout/_workspace.html", workspace_context, order=10))
        sections.register_list_columns(
            sections.ListColumns(
                (_("Var i modellen"), _("Läge"), _("Nästa")),
                "rollout/_unit_list_cells.html",
                unit_list_values,
                order=10,
            )
        )
