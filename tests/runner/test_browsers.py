from aiohttp import web

from runner.browsers import Browsers
from tests.conftest import ServeApp


async def test_context_loads_local_page(browsers: Browsers, serve: ServeApp) -> None:
    async def hi(_request: web.Request) -> web.Response:
        return web.Response(text="<title>Hi</title>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/", hi)
    base = await serve(app)
    async with browsers.context() as context:
        page = await context.new_page()
        await page.goto(base + "/")
        assert await page.title() == "Hi"
