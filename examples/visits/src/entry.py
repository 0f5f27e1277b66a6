from urllib.parse import urlparse

from workers import DurableObject, Response, handler


class Visits(DurableObject):
    """One object for the whole site: a visit count per page, kept in storage."""

    async def hit(self, page):
        count = (await self.ctx.storage.get(page) or 0) + 1
        await self.ctx.storage.put(page, count)
        return count


@handler
async def on_fetch(request, env):
    page = urlparse(request.url).path
    count = await env.VISITS.getByName("site").hit(page)
    return Response(f"{env.GREETING}: {page} has {count} visits")


async def test(ctrl, env):
    site = env.VISITS.getByName("site")
    assert await site.hit("/a") == 1
    assert await site.hit("/a") == 2
    assert await site.hit("/b") == 1
