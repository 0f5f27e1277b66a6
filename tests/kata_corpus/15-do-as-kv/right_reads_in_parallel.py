"""The storefront Worker. Every page view reads the feature flags in PAGE_FLAGS to decide what
to render; the admin dashboard flips a flag with `PUT /admin/flags/<name>` (body "on" or "off").
Flags change a few times a week and are read on every page view, from every Cloudflare location
in the world. A flag that was never set is "off".
"""

import asyncio
from urllib.parse import urlparse

from workers import Response, WorkerEntrypoint

PAGE_FLAGS = ("new_checkout", "dark_mode", "holiday_banner")


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlparse(request.url).path
        if request.method == "PUT" and path.startswith("/admin/flags/"):
            value = (await request.text()).strip()
            if value not in ("on", "off"):
                return Response("a flag is 'on' or 'off'", status=400)
            await self.env.FLAGS.put(path.removeprefix("/admin/flags/"), value)
            return Response("saved")
        values = await asyncio.gather(*(self.env.FLAGS.get(name) for name in PAGE_FLAGS))
        return Response.from_json({"page": path, "flags": {n: v or "off" for n, v in zip(PAGE_FLAGS, values)}})
