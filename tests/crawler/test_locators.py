"""Locator verification at crawl time: each target is what Playwright itself finds alone."""

from __future__ import annotations

from crawler.analysis import ELEMENTS_KEY
from crawler.locators import field_candidates
from crawler.matches import MARK_ENGINE, MARK_ENGINE_JS, batch_matches
from crawler.models import PageResult
from crawler.reading import read_page
from runner.browsers import Browsers
from runner.playback import locate
from runner.steps import Target
from tests.conftest import ServeApp
from tests.crawler.sites import crawl_routes
from tests.generation.conftest import field
from tests.sites import Site, page

FORM = """
<nav><a href="/a">Alpha</a> <a href="/b" data-testid="beta">Beta</a>
<span style="display:inline-block; transform: scale(0)"><a href="/b">Beta</a></span></nav>
<h2>Welcome</h2>
<form action="/find">
  <label for="q"><img src="data:," alt="Find"></label><input id="q" name="q">
  <label for="name">Name</label><input id="name" name="name">
  <label for="user">Username</label><input id="user" name="user">
  <input name="code" placeholder="Code">
  <input name="plain">
  <label for="aria">Shown</label><input id="aria" aria-label="Hidden name" name="aria">
  <button>Go</button><button type="button">Go</button>
</form>
"""


async def _page(browsers: Browsers, serve: ServeApp, html: str) -> PageResult:
    result, _, _ = await crawl_routes(browsers, serve, {"/": html}, depth=0)
    return result.pages[0]


async def test_targets_are_verified_in_the_live_page(browsers: Browsers, serve: ServeApp) -> None:
    found = await _page(browsers, serve, page("Welcome", FORM))
    [form] = found.forms
    targets = {field.name: field.target for field in form.fields}

    assert targets == {
        # The crawl names it "Find" from the image; getByLabel reads the label's text only.
        "q": Target(role="textbox", name="Find", exact=True),
        # getByLabel("Name") would match "Username" too.
        "name": Target(role="textbox", name="Name", exact=True),
        "user": Target(label="Username"),
        "code": Target(placeholder="Code", exact=True),
        "plain": Target(css='input[name="plain"]'),
        # For Playwright the aria-label wins over the <label>: getByLabel("Shown") finds nothing.
        "aria": Target(role="textbox", name="Hidden name", exact=True),
    }
    # Two buttons named "Go": the submit button by its selector.
    assert form.submit is not None and form.submit.target == Target(css=form.submit.css)
    links = {link.url.removeprefix(found.url): link.target for link in found.links if link.visible}
    assert links["a"] == Target(role="link", name="Alpha", exact=True)
    # A zero-size copy shares the name: the test id finds the shown one alone.
    assert links["b"] == Target(test_id="beta")
    assert found.heading_target == Target(role="heading", name="Welcome", exact=True, level=1)
    assert [(u.element, u.reason) for u in found.unlocated] == []


async def test_what_no_locator_finds_alone_gets_no_target(
    browsers: Browsers, serve: ServeApp
) -> None:
    twins = page("Twins", '<div style="transform: scale(0)"><h1>Twins</h1></div>', heading="Twins")
    # Playwright's accessible name takes in CSS generated content; the crawl's text does not.
    styled = page("Styled", "<style>h1::after { content: ' (beta)'; }</style>")

    found = [await _page(browsers, serve, html) for html in (twins, styled)]

    assert [page.heading_target for page in found] == [None, None]
    assert [[(u.element, u.reason) for u in page.unlocated] for page in found] == [
        [('heading "Twins"', "not_unique")],
        [('heading "Styled"', "not_found")],
    ]


async def test_a_batch_answers_what_each_locator_finds_alone(
    browsers: Browsers, serve: ServeApp
) -> None:
    await browsers.register_selector_engine(MARK_ENGINE, MARK_ENGINE_JS)
    targets = [
        Target(role="link", name="Beta", exact=True),  # two, one of them shrunk to nothing
        Target(role="link", name="Alpha", exact=True),
        Target(test_id="beta"),
        Target(label="Username"),
        Target(label="Name"),  # "Username" and aria-label "Hidden name" too
        Target(role="button", name="Go", exact=True),
        Target(css="nav a"),
        Target(role="heading", name="Nowhere"),
        Target(css="[hidden-by-style]"),
    ]
    async with browsers.context() as context:
        live = await context.new_page()
        html = FORM + '<p hidden-by-style style="display:none">x</p>'
        await live.goto(await serve(Site({"/": page("Welcome", html)}).app()))
        await read_page(live, None, [])  # numbers the analysed elements (ELEMENTS_KEY)
        alone = [
            await locate(live, target).evaluate_all(
                "(els, key) => els.map((el) => window[key].index.get(el) ?? -1)", ELEMENTS_KEY
            )
            for target in targets
        ]
        together = await batch_matches(live, targets)
        again = await batch_matches(live, targets[::-1])

    assert [[ref for ref, _ in found] for found in together] == alone
    assert [len(found) for found in alone] == [2, 1, 1, 1, 3, 2, 3, 0, 1]
    assert [shown for _, shown in together[0]] == [True, False]
    assert together[-1] == [(-1, False)]
    assert again == together[::-1]


def test_field_candidates_come_in_a_persons_order() -> None:
    everything = field(
        "#f",
        label="Email",
        placeholder="you@example.com",
        accessible_name="Email",
        test_id="email",
    )

    assert field_candidates(everything) == [
        Target(label="Email"),
        Target(placeholder="you@example.com", exact=True),
        Target(role="textbox", name="Email", exact=True),
        Target(test_id="email"),
        Target(css="#f"),
    ]
    assert field_candidates(field("#g", placeholder="two  spaces")) == [Target(css="#g")]
