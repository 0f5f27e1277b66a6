"""The storefront Worker. Every page view reads the feature flags in PAGE_FLAGS to decide what
to render; the admin dashboard flips a flag with `PUT /admin/flags/<name>` (body "on" or "off").
Flags change a few times a week and are read on every page view, from every Cloudflare location
in the world. A flag that was never set is "off".

The flags live in Workers KV (`env.FLAGS`): reads are served from a cache in the location of the
request, and a change reaches every location within about a minute, which is fine for flags.
No Durable Object is involved: there is nothing to coordinate.
"""

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
            await self.env.FLAGS.put(f"flag:{path.rsplit('/', 1)[-1]}", value)
            return Response("saved")
        # One bulk read for all the page's flags, served from this location's cache.
        stored = await self.env.FLAGS.get([f"flag:{name}" for name in PAGE_FLAGS])
        flags = {name: stored[f"flag:{name}"] or "off" for name in PAGE_FLAGS}
        return Response.from_json({"page": path, "flags": flags})
