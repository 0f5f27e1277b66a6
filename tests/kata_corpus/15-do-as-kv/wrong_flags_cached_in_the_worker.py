"""The storefront Worker. Every page view reads the feature flags in PAGE_FLAGS to decide what
to render; the admin dashboard flips a flag with `PUT /admin/flags/<name>` (body "on" or "off").
Flags change a few times a week and are read on every page view, from every Cloudflare location
in the world. A flag that was never set is "off".
"""

from urllib.parse import urlparse

from workers import DurableObject, Response, WorkerEntrypoint

PAGE_FLAGS = ("new_checkout", "dark_mode", "holiday_banner")
CACHE = {}  # flag name -> value: a page view asks the flag's object only once


class FlagStore(DurableObject):
    """One object per flag: its value, strongly consistent."""

    async def read(self):
        return await self.ctx.storage.get("value") or "off"

    async def write(self, value):
        await self.ctx.storage.put("value", value)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlparse(request.url).path
        if request.method == "PUT" and path.startswith("/admin/flags/"):
            value = (await request.text()).strip()
            if value not in ("on", "off"):
                return Response("a flag is 'on' or 'off'", status=400)
            name = path.rsplit("/", 1)[-1]
            await self.env.FLAG_STORE.getByName(f"flag:{name}").write(value)
            CACHE[name] = value
            return Response("saved")
        flags = {}
        for name in PAGE_FLAGS:
            if name not in CACHE:
                CACHE[name] = await self.env.FLAG_STORE.getByName(f"flag:{name}").read()
            flags[name] = CACHE[name]
        return Response.from_json({"page": path, "flags": flags})
