"""The municipality's generation, under which its aggregates are cached."""

import pytest
from django.db import transaction

from units import freshness
from units.models import Municipality


@pytest.mark.django_db
def test_the_generation_moves_once_when_the_change_is_committed(
    municipality: Municipality, django_capture_on_commit_callbacks
) -> None:
    before = freshness.generation(municipality.pk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        freshness.changed(municipality.pk)
        # Not inside the transaction: a page read now would see the old state.
        assert freshness.generation(municipality.pk) == before
    assert len(callbacks) == 1
    assert freshness.generation(municipality.pk) == before + 1


@pytest.mark.django_db
def test_a_change_rolled_back_leaves_the_generation(
    municipality: Municipality, django_capture_on_commit_callbacks
) -> None:
    @transaction.atomic
    def refused_change() -> None:
        freshness.changed(municipality.pk)
        raise RuntimeError("refused")

    before = freshness.generation(municipality.pk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        refused_change()
    assert callbacks == []
    assert freshness.generation(municipality.pk) == before


@pytest.mark.django_db
def test_a_flushed_cache_starts_a_new_generation(municipality: Municipality) -> None:
    from django.core.cache import cache

    before = freshness.generation(municipality.pk)
    cache.delete(freshness._key(municipality.pk))
    freshness._bump(municipality.pk)
    assert freshness.generation(municipality.pk) != before
