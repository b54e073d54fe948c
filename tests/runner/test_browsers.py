from aiohttp import web

from tests.conftest import ServeApp
from runner.browsers import Browsers


async def test_context_loads_local_page(browsers: Browsers, serve: ServeApp) -> None:
    app = web.Application()
    app.router.add_get("/", lambda r: web.Response(text="<title>Hi</title>", content_type="text/html"))
    base = await serve(app)
    async with browsers.context() as context:
        page = await context.new_page()
        await page.goto(base + "/")
        assert await page.title() == "Hi"
