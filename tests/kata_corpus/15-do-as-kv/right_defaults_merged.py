"""The storefront Worker. Every page view reads the feature flags in PAGE_FLAGS to decide what
to render; the admin dashboard flips a flag with `PUT /admin/flags/<name>` (body "on" or "off").
Flags change a few times a week and are read on every page view, from every Cloudflare location
in the world. A flag that was never set is "off".
"""

from urllib.parse import urlparse

from workers import Response, WorkerEntrypoint

DEFAULTS = {"new_checkout": "off", "dark_mode": "off", "holiday_banner": "off"}


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlparse(request.url).path
        if request.method == "PUT" and path.startswith("/admin/flags/"):
            value = (await request.text()).strip()
            if value not in ("on", "off"):
                return Response("a flag is 'on' or 'off'", status=400)
            await self.env.FLAGS.put(f"feature/{path.rsplit('/', 1)[-1]}", value)
            return Response("saved")
        flags = dict(DEFAULTS)
        for name in DEFAULTS:
            stored = await self.env.FLAGS.get(f"feature/{name}")
            if stored is not None:
                flags[name] = stored
        return Response.from_json({"page": path, "flags": flags})
