"""`/news …`: what every member can use to look news up. Read-only, and only over this server's own feeds."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discordbot.errors import UserError
from bot.discordbot.lookup import feed_choices, normalize_input_url, resolve
from bot.discordbot.sink import mentions_for, to_embed
from bot.models import Article, EmbedField
from bot.render import cut, escape, render, safe_url
from bot.store import Store

if TYPE_CHECKING:
    from bot.discordbot.client import NewsBotMixin

NO_PINGS = discord.AllowedMentions.none()


def compact(articles: list[Article], heading: str) -> discord.Embed:
    """Many articles in one embed: a field each, title linked, source and time beside it."""
    embed = discord.Embed(title=cut(heading, 256), color=0x5865F2)
    for a in articles[:10]:
        when = f" · <t:{int(a.published.timestamp())}:R>" if a.published else ""
        title = cut(escape(a.title) or "Untitled", 200)
        link = f"[{title}]({a.url})" if safe_url(a.url) else title
        value = cut(f"{link}\n{escape(a.source)}{when}\n{escape(a.summary)}", 1000)
        embed.add_field(name="\u200b", value=value, inline=False)
    return embed


@app_commands.guild_only()
class NewsCog(commands.GroupCog, group_name="news", group_description="Look up the news this server follows"):
    def __init__(self, bot: NewsBotMixin) -> None:
        self.bot = bot
        super().__init__()

    @property
    def store(self) -> Store:
        return self.bot.services.store

    async def _feed_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await feed_choices(self.store, interaction, current)

    @app_commands.command(name="latest", description="The newest articles of this server's feeds")
    @app_commands.describe(feed="Only this feed", count="How many (1-10)", public="Show to everyone in the channel")
    @app_commands.autocomplete(feed=_feed_autocomplete)
    async def latest(
        self,
        interaction: discord.Interaction,
        feed: app_commands.Range[str, 1, 2000] | None = None,
        count: app_commands.Range[int, 1, 10] = 5,
        public: bool = False,
    ) -> None:
        assert interaction.guild_id is not None
        feed_id = (await resolve(self.store, interaction.guild_id, feed)).feed.id if feed else None
        articles = await self.store.latest_articles(interaction.guild_id, count, feed_id)
        if not articles:
            raise UserError("No articles yet. Admins add feeds with `/feed add`.")
        await interaction.response.send_message(
            embed=compact(articles, "Latest news"), ephemeral=not public, allowed_mentions=NO_PINGS
        )

    @app_commands.command(name="search", description="Search the articles of this server's feeds")
    @app_commands.describe(query="Words to look for", public="Show to everyone in the channel")
    async def search(
        self, interaction: discord.Interaction, query: app_commands.Range[str, 1, 200], public: bool = False
    ) -> None:
        assert interaction.guild_id is not None
        articles = await self.store.search_articles(interaction.guild_id, query, 5)
        if not articles:
            raise UserError("Nothing found for that. Try fewer or different words.")
        await interaction.response.send_message(
            embed=compact(articles, f"Results for “{query}”"), ephemeral=not public, allowed_mentions=NO_PINGS
        )

    @app_commands.command(name="sources", description="What this server follows, and where it posts")
    async def sources(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        views = await self.store.guild_subscriptions(interaction.guild_id)
        if not views:
            raise UserError("This server follows no feeds yet.")
        lines = [
            f"• **{cut(escape(v.label), 120)}** → <#{v.subscription.channel_id}>"
            + (" (paused)" if v.subscription.paused_reason else "")
            for v in views
        ]
        embed = discord.Embed(title="Sources", description=cut("\n".join(lines), 4000), color=0x5865F2)
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="summarize", description="A short summary of any news article")
    @app_commands.describe(url="The article's address", post="Post the summary in the channel for everyone")
    async def summarize(
        self, interaction: discord.Interaction, url: app_commands.Range[str, 1, 2000], post: bool = False
    ) -> None:
        url = normalize_input_url(url)
        reason = self.bot.services.app.refusal(url)
        if reason:  # refused before deferring: the answer is instant and only the user sees it
            raise UserError(f"That URL can't be used: {reason}.")
        await interaction.response.defer(ephemeral=not post, thinking=True)
        rendered = render(await self.bot.services.app.summarize_url(url, interaction.guild_id))
        if post:
            rendered = dataclasses.replace(rendered, fields=(EmbedField("Requested by", interaction.user.mention),))
        await interaction.followup.send(
            embed=to_embed(rendered), ephemeral=not post, allowed_mentions=mentions_for(rendered)
        )
