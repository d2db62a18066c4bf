"""What forms of several apps share."""

from typing import TYPE_CHECKING, Any

from django import forms

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise  # the stubs' name for a lazy string


class ConfirmWarnings(forms.Form):
    """A form that may find things worth a second look without being wrong (a clash in the
    calendar, a date long ago): ``clean`` adds them to ``warnings``, and the form is valid only
    when the person ticks the form's ``confirm`` box. The box comes with the warnings, so
    nobody ticks it in advance."""

    confirm_error: "_StrPromise | str"  # shown at the box while warnings stand and it is not ticked

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.warnings: list[str] = []
        if not self.is_bound:
            del self.fields["confirm"]

    def full_clean(self) -> None:
        super().full_clean()
        if not self.warnings:
            self.fields.pop("confirm", None)

    def ask_to_confirm(self, data: dict[str, Any]) -> None:
        """Call last in ``clean``, after the warnings are known."""
        if self.warnings and not data.get("confirm"):
            self.add_error("confirm", self.confirm_error)
