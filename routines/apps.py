from django.apps import AppConfig
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class RoutinesConfig(AppConfig):
    name = "routines"
    verbose_name = _("Rutiner")

    def ready(self) -> None:
        from rollout import steps, timeline
        from rollout.models import Step
        from routines.selectors import digest, routine_facts
        from routines.steps import routine_action_url

        steps.register(
            steps.StepApp(
                Step.ROUTINES,
                page_url_name="routines:routine",
                facts=routine_facts,
                digest=digest,
                action_url=routine_action_url,
            )
        )
        timeline.register_texts(
            {
                "routine.started": lambda p: (
                    gettext("Rutinen påbörjades utifrån mallen %(template)s.") % p
                ),
                "routine.saved": lambda p: gettext("Rutinen sparades som version %(version)s.") % p,
                "routine.review": lambda p: (
                    gettext("Version %(version)s skickades för granskning.") % p
                ),
                "routine.approved": lambda p: (
                    (
                        gettext("Samordnaren godkände version %(version)s.")
                        if p.get("role") == "coordinator"
                        else gettext("Enhetschefen godkände version %(version)s.")
                    )
                    % p
                ),
                "routine.sent_back": lambda p: (
                    gettext("Rutinen skickades tillbaka: %(comment)s") % p
                ),
                "routine.implemented": lambda p: (
                    gettext("Version %(version)s infördes i verksamheten.") % p
                ),
                "routine.revised": lambda p: gettext("En ny version av rutinen påbörjades.") % p,
                "routine.published": lambda p: (
                    gettext("Rutinen delades som exempel för andra enheter.") % p
                ),
                "routine.unpublished": lambda p: (
                    gettext("Rutinen delas inte längre som exempel.") % p
                ),
            }
        )
