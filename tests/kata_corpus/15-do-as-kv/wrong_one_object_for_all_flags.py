"""The storefront Worker. Every page view reads the feature flags in PAGE_FLAGS to decide what
to render; the admin dashboard flips a flag with `PUT /admin/flags/<name>` (body "on" or "off").
Flags change a few times a week and are read on every page view, from every Cloudflare location
in the world. A flag that was never set is "off".
"""

from urllib.parse import urlparse

from workers import DurableObject, Response, WorkerEntrypoint

PAGE_FLAGS = ("new_checkout", "dark_mode", "holiday_banner")


class FlagStore(DurableObject):
    """All the flags in one object: one request per page view instead of one per flag."""

    async def read_all(self, names):
        stored = await self.ctx.storage.get([f"flag:{name}" for name in names])
        return {name: stored.get(f"flag:{name}", "off") for name in names}

    async def write(self, name, value):
        await self.ctx.storage.put(f"flag:{name}", value)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlparse(request.url).path
        flags_object = self.env.FLAG_STORE.getByName("flags")
        if request.method == "PUT" and path.startswith("/admin/flags/"):
            value = (await request.text()).strip()
            if value not in ("on", "off"):
                return Response("a flag is 'on' or 'off'", status=400)
            await flags_object.write(path.rsplit("/", 1)[-1], value)
            return Response("saved")
        return Response.from_json({"page": path, "flags": await flags_object.read_all(list(PAGE_FLAGS))})
