from django.apps import AppConfig
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = _("Uppföljning")

    def ready(self) -> None:
        from followup import receivers
        from followup import steps as followup_steps
        from followup.models import SupportNeed
        from followup.selectors import follow_up_facts, shared_lessons
        from rollout import steps, timeline
        from rollout.models import Step

        receivers.connect()
        steps.register(
            steps.StepApp(
                Step.FOLLOW_UP,
                page_url_name="followup:step",
                facts=follow_up_facts,
                on_start=followup_steps.create_follow_ups,
                digest=followup_steps.digest,
                attention=followup_steps.attention,
                lessons=shared_lessons,
                action_url=followup_steps.action_url,
            )
        )
        timeline.register_texts(
            {
                "followup.booked": lambda p: (
                    gettext("Uppföljningen efter %(months)s månader bokades till %(starts)s.") % p
                ),
                "followup.held": lambda p: (
                    gettext(
                        "Uppföljningen efter %(months)s månader genomfördes. Behov av stöd: %(support)s."
                    )
                    % {"months": p["months"], "support": SupportNeed(p["support"]).label}
                    if p.get("support") in SupportNeed.values
                    else gettext("Uppföljningen efter %(months)s månader genomfördes.") % p
                ),
            }
        )
