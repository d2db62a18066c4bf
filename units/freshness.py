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
    """Call inside the transaction that makes the change. The number moves when the change is
    committed, before the request that made it answers, so the person's next page is built
    afresh; a page read before the commit was cached under the old number, which nobody reads
    again. (Moving it inside the transaction as well cost a round trip under the caller's row
    locks, and helped only reads within that same transaction.)"""
    transaction.on_commit(lambda: _bump(municipality_id))
