import io

from bot.demo import run_demo


async def test_demo_prints_clean_posts_for_the_bundled_site() -> None:
    out = io.StringIO()
    posted = await run_demo(out)
    text = out.getvalue()
    assert posted == 3
    assert "Harbor Town's first electric ferry enters service" in text
    assert "/news/ferry-electric" in text
    assert "The Gull, Harbor Town's first battery-powered ferry" in text
    for junk in ("Quick Links", "Fetching more content", "Edited by", "Share on", "newsletter", "cookies"):
        assert junk not in text
