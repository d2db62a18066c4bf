from django import forms
from django.utils.translation import gettext_lazy as _

from units.validators import PRIVACY_HELP_TEXT, validate_no_personal_data


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Anledning"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[validate_no_personal_data],
        help_text=PRIVACY_HELP_TEXT,
    )
