from django.apps import AppConfig
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = _("Utbildning")

    def ready(self) -> None:
        from rollout import steps, timeline
        from rollout.models import Step
        from training import receivers
        from training.selectors import digest, training_facts, web_course_facts
        from training.steps import training_action_url, web_course_action_url

        receivers.connect()
        steps.register(
            steps.StepApp(
                Step.WEB_COURSE,
                page_url_name="training:web_course",
                facts=web_course_facts,
                action_url=web_course_action_url,
            )
        )
        steps.register(
            steps.StepApp(
                Step.TRAINING,
                page_url_name="training:targeted",
                facts=training_facts,
                digest=digest,
                action_url=training_action_url,
            )
        )
        timeline.register_texts(
            {
                "training.wishes": lambda p: (
                    gettext("Önskemål om teman sparades: %(themes)s.")
                    % {"themes": ", ".join(p.get("themes", [])) or "–"}
                ),
                "training.booked": lambda p: (
                    gettext("Riktad utbildning bokades till %(starts)s.") % p
                ),
                "training.rescheduled": lambda p: (
                    gettext("Riktad utbildning flyttades från %(before)s till %(after)s.") % p
                ),
                "training.cancelled": lambda p: (
                    gettext("Riktad utbildning %(starts)s ställdes in: %(reason)s") % p
                ),
                "training.held": lambda p: (
                    gettext("Riktad utbildning genomfördes med %(participants)s deltagare.") % p
                ),
                "web_course.reported": lambda p: (
                    gettext(
                        "Webbkursen rapporterades: %(completed)s till har gått kursen, "
                        "totalt %(total)s av %(headcount)s."
                    )
                    % p
                ),
            }
        )
