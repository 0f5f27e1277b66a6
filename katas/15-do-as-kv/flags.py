"""The storefront Worker. Every page view reads the feature flags in PAGE_FLAGS to decide what
to render; the admin dashboard flips a flag with `PUT /admin/flags/<name>` (body "on" or "off").
Flags change a few times a week and are read on every page view, from every Cloudflare location
in the world. A flag that was never set is "off".
"""

from urllib.parse import urlparse

from workers import DurableObject, Response, WorkerEntrypoint

PAGE_FLAGS = ("new_checkout", "dark_mode", "holiday_banner")


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
            await self._set_flag(path.rsplit("/", 1)[-1], value)
            return Response("saved")
        flags = {name: await self._flag(name) for name in PAGE_FLAGS}
        return Response.from_json({"page": path, "flags": flags})

    # TODO: every page view sends one request per flag to a Durable Object, and each flag's
    # object lives in one place in the world: every read from everywhere travels to it. This
    # is global, read-mostly configuration where a change may take a minute to reach everyone.
    # Keep the flags in the Workers KV namespace bound as `env.FLAGS` instead.
    async def _flag(self, name):
        return await self.env.FLAG_STORE.getByName(f"flag:{name}").read()

    async def _set_flag(self, name, value):
        await self.env.FLAG_STORE.getByName(f"flag:{name}").write(value)
