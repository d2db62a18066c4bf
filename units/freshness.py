"""A generation number per municipality in the shared cache, bumped by every change that leaves
a trace (units' audit log, the rollout timeline). Aggregates cached under the current generation
are therefore never stale for the person who just made a change, and changes that leave no trace
(time passing, a reminder failing) show when the short cache time runs out."""

import secrets

from django.core.cache import cache
from django.db import transaction


def _key(municipality_id: int) -> str:
    return f"municipality-generation:{municipality_id}"


def generation(municipality_id: int) -> int:
    key = _key(municipality_id)
    value = cache.get(key)
    if value is None:
        # After a cache flush, start somewhere random so that no old generation comes back.
        cache.add(key, secrets.randbits(62), timeout=None)
        value = cache.get(key, 0)
    return int(value)


def _bump(municipality_id: int) -> None:
    try:
        cache.incr(_key(municipality_id))
    except ValueError:  # not in the cache (flushed or evicted): any new value will do
        cache.set(_key(municipality_id), secrets.randbits(62), timeout=None)


def changed(municipality_id: int) -> None:
    """Call inside the transaction that makes the change. Bumped now, so the person's next page
    is fresh even inside a long transaction, and again after the commit, because a page read in
    between may have cached what was there before the change."""
    _bump(municipality_id)
    transaction.on_commit(lambda: _bump(municipality_id))
