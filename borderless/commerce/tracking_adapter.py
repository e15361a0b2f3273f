"""What every tracking aggregator adapter does around its vendor call: one deadline, a cache.

Subclasses (AfterShip, 17TRACK) set ``system``, build ``self.http`` and ``self.cache`` and
implement ``_track``; ``track`` normalizes the number, serves repeats from the cache and turns a
slow vendor into ``BackendUnavailable`` before the customer notices.
"""

from __future__ import annotations

import asyncio
import dataclasses
from abc import ABC, abstractmethod

from borderless.commerce.errors import BackendUnavailable, TrackingNotFound
from borderless.commerce.http import JsonHttpClient, TtlCache
from borderless.commerce.models import Tracking
from borderless.commerce.tracking_status import carrier_key, compact_number


class TrackingAdapter(ABC):
    system: str
    timeout: float
    http: JsonHttpClient
    cache: TtlCache

    async def track(self, carrier: str, tracking_number: str) -> Tracking:
        """Live tracking; ``TrackingNotFound`` also while the vendor has nothing for it yet."""
        number = compact_number(tracking_number)
        if not number:
            raise TrackingNotFound(f"{carrier} {tracking_number}")
        key = (carrier_key(carrier), number)
        cached: Tracking | None = self.cache.get(key)
        if cached is not None:
            # Replies match trackings to shipments by the number as the shop wrote it.
            return dataclasses.replace(cached, carrier=carrier, tracking_number=tracking_number)
        try:
            tracking = await asyncio.wait_for(
                self._track(carrier, tracking_number, number), self.timeout
            )
        except asyncio.TimeoutError:
            raise BackendUnavailable(
                f"{self.system} did not answer within {self.timeout:g}s", system=self.system
            ) from None
        self.cache.put(key, tracking)
        return tracking

    async def close(self) -> None:
        await self.http.close()

    @abstractmethod
    async def _track(self, carrier: str, tracking_number: str, number: str) -> Tracking:
        """The vendor call for one compacted ``number``; the shop's spelling is kept."""
