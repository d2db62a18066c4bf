from django.apps import AppConfig
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = _("Utbildning")

    def ready(self) -> None:
        from rollout import steps, timeline
        from rollout.models import Step
        from training.selectors import web_course_facts

        steps.register(
            steps.StepApp(
                Step.WEB_COURSE, page_url_name="training:web_course", facts=web_course_facts
            )
        )
        timeline.register_texts(
            {
                "web_course.reported": lambda p: (
                    gettext(
                        "Webbkursen rapporterades: %(completed)s till har gått kursen, "
                        "totalt %(total)s av %(headcount)s."
                    )
                    % p
                ),
            }
        )
