"""`/feed …`: what server admins use to decide which news goes where.

Hidden from members by ``default_permissions(manage_guild=True)`` and refused to them by ``interaction_check``:
the hint alone is only a UI default that server owners can change, so the check is the real lock.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discordbot.errors import UserError
from bot.discordbot.lookup import feed_choices, normalize_input_url, resolve
from bot.discordbot.sink import missing_permissions, to_embed
from bot.opml import OPMLError, Outline, parse_opml, to_opml
from bot.render import cut, render
from bot.store import Store, SubscriptionView
from bot.usecases import FollowRequest, NewsApp, Preview

if TYPE_CHECKING:
    from bot.discordbot.client import NewsBotMixin

PAGE_SIZE = 8
MAX_WORDS = 20
NO_PINGS = discord.AllowedMentions.none()


def parse_words(value: str | None) -> tuple[str, ...]:
    """Comma-separated filter words, trimmed, bounded; invisible and control characters removed."""
    if not value:
        return ()
    words = []
    for raw in value.split(","):
        word = "".join(c for c in raw if c.isprintable() and c not in "\u200b\u200c\u200d\u2060\ufeff").strip()
        if word:
            words.append(word[:60])
    if len(words) > MAX_WORDS:
        raise UserError(f"At most {MAX_WORDS} filter words, please.")
    return tuple(dict.fromkeys(words))


def status_line(view: SubscriptionView) -> str:
    if view.feed.disabled_reason:
        return f"⛔ disabled: {view.feed.disabled_reason}"
    if view.subscription.paused_reason:
        return f"⏸️ paused: {view.subscription.paused_reason}"
    if view.feed.last_error:
        return f"⚠️ failing ({view.feed.error_count}×): {view.feed.last_error}"
    if view.feed.last_checked is None:
        return "🕓 not checked yet"
    return "✅ OK"


def describe(view: SubscriptionView) -> str:
    sub, feed = view.subscription, view.feed
    lines = [feed.url, f"in <#{sub.channel_id}> · every {feed.interval // 60} min"]
    if feed.last_checked:
        lines.append(f"last check <t:{int(feed.last_checked)}:R>")
    if sub.mention_role_id:
        lines.append(f"mentions <@&{sub.mention_role_id}>")
    if sub.include_words:
        lines.append("only with: " + ", ".join(sub.include_words))
    if sub.exclude_words:
        lines.append("never with: " + ", ".join(sub.exclude_words))
    if sub.language:
        lines.append(_language_note(sub.language, ""))
    lines.append(status_line(view))
    return cut("\n".join(lines), 1024)


def _language_note(language: str, default: str) -> str:
    if language == "none":
        return "summaries as written"
    return f"summaries in {language}" if language else f"summaries in {default}"


def bot_permission_problem(channel: discord.abc.GuildChannel) -> str | None:
    missing = missing_permissions(channel)
    return f"I am missing {', '.join(missing)} in {channel.mention}." if missing else None


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class FeedsCog(commands.GroupCog, group_name="feed", group_description="Choose which news this server follows"):
    def __init__(self, bot: NewsBotMixin) -> None:
        self.bot = bot
        super().__init__()

    @property
    def store(self) -> Store:
        return self.bot.services.store

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage()
        if not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    async def _feed_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await feed_choices(self.store, interaction, current)

    @property
    def app(self) -> NewsApp:
        return self.bot.services.app

    async def _send_preview(
        self, interaction: discord.Interaction, text: str, preview: Preview, mention: int | None
    ) -> None:
        if preview.article is None:
            await interaction.followup.send(f"{text} {preview.empty_reason}", ephemeral=True, allowed_mentions=NO_PINGS)
            return
        post = render(preview.article, mention_role_id=mention)
        await interaction.followup.send(text, embed=to_embed(post), ephemeral=True, allowed_mentions=NO_PINGS)

    # ----- commands

    @app_commands.command(name="add", description="Follow a feed or a news site's page in a channel")
    @app_commands.describe(
        url="Feed URL, or a news page that links to its feed",
        channel="Where new articles are posted (default: here)",
        mention="A role to mention with each new article",
        include="Only post articles containing one of these words (comma-separated)",
        exclude="Never post articles containing these words (comma-separated)",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        url: app_commands.Range[str, 1, 2000],
        channel: discord.TextChannel | None = None,
        mention: discord.Role | None = None,
        include: app_commands.Range[str, 0, 1000] | None = None,
        exclude: app_commands.Range[str, 0, 1000] | None = None,
    ) -> None:
        assert interaction.guild is not None
        target = channel or interaction.channel
        if not isinstance(target, discord.TextChannel):
            raise UserError("Pick a text channel for the posts with the `channel` option.")
        if target.guild.id != interaction.guild.id:
            raise UserError("That channel is not in this server.")
        problem = bot_permission_problem(target)
        if problem:
            raise UserError(problem + " Give me those permissions there, or pick another channel.")
        if mention is not None and (mention.is_default() or mention.guild.id != interaction.guild.id):
            raise UserError("Pick a normal role to mention (not @everyone).")
        request = FollowRequest(
            normalize_input_url(url),
            interaction.guild.id,
            target.id,
            mention.id if mention else None,
            parse_words(include),
            parse_words(exclude),
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.app.follow(request)
        assert result.preview is not None
        ping = f", mentioning {mention.mention}" if mention else ""
        text = (
            f"✅ Following **{discord.utils.escape_markdown(cut(result.preview.title, 200))}** in "
            f"{target.mention}{ping}. New articles will be posted there."
        )
        if result.preview.article is not None:
            text += " The newest article, as it will look:"
        await self._send_preview(interaction, text, result.preview, request.mention_role_id)

    @app_commands.command(name="remove", description="Stop following a feed")
    @app_commands.describe(feed="The feed to stop following")
    async def remove(self, interaction: discord.Interaction, feed: app_commands.Range[str, 1, 2000]) -> None:
        view = await resolve(self.store, interaction.guild_id, feed)
        await self.app.unfollow(view)
        await interaction.response.send_message(
            f"🗑️ Stopped following **{discord.utils.escape_markdown(view.label)}** in "
            f"<#{view.subscription.channel_id}>.",
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    @app_commands.command(name="list", description="The feeds this server follows, with their health")
    @app_commands.describe(page="Page number")
    async def list_feeds(self, interaction: discord.Interaction, page: app_commands.Range[int, 1, 1000] = 1) -> None:
        assert interaction.guild_id is not None
        views = await self.store.guild_subscriptions(interaction.guild_id)
        if not views:
            await interaction.response.send_message(
                "This server follows no feeds yet. Add one with `/feed add`.", ephemeral=True
            )
            return
        pages = (len(views) + PAGE_SIZE - 1) // PAGE_SIZE
        page = min(page, pages)
        embed = discord.Embed(title=f"Feeds of this server ({len(views)})", color=0x5865F2)
        if language := await self.store.guild_language(interaction.guild_id):
            embed.description = f"Server default: {_language_note(language, '')} (`/feed language`)"
        for view in views[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
            name = cut(discord.utils.escape_markdown(view.label), 250)
            embed.add_field(name=f"{view.subscription.id} · {name}", value=describe(view), inline=False)
        embed.set_footer(text=f"Page {page} of {pages}" + (" · use the page option for more" if pages > 1 else ""))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(
        name="language", description="Translate this server's summaries into a language (needs a model)"
    )
    @app_commands.describe(
        language="A code (de, pt-BR…); 'none' as written; 'default' the bot's setting. Leave out to see the current"
    )
    async def language(
        self, interaction: discord.Interaction, language: app_commands.Range[str, 1, 20] | None = None
    ) -> None:
        assert interaction.guild_id is not None
        if language is None:
            current = await self.store.guild_language(interaction.guild_id)
        else:
            current = await self.app.set_server_language(interaction.guild_id, language)
        translations = self.app.translations
        resolved = translations.language_for(current) if translations is not None and translations.available else ""
        if not resolved:
            said = "are posted as written"
        else:
            said = f"are translated into {resolved}" + ("" if current else " (the bot's default)")
        await interaction.response.send_message(
            f"🌐 This server's summaries {said}. A feed's own `/feed edit language:` wins over it; an article "
            "already written in that language is posted as it is.",
            ephemeral=True,
        )

    @app_commands.command(name="edit", description="Change where and how a feed posts")
    @app_commands.describe(
        feed="The feed to change",
        channel="Post in this channel instead",
        interval="Minutes between checks",
        mention="Role to mention with each article",
        no_mention="Stop mentioning a role",
        include="Only post articles with these words (comma-separated; empty to clear)",
        exclude="Never post articles with these words",
        language="Translate summaries into this language (de, pt-BR…), 'none' as written, 'default' the server's",
    )
    async def edit(
        self,
        interaction: discord.Interaction,
        feed: app_commands.Range[str, 1, 2000],
        channel: discord.TextChannel | None = None,
        interval: app_commands.Range[int, 1, 10080] | None = None,
        mention: discord.Role | None = None,
        no_mention: bool = False,
        include: app_commands.Range[str, 0, 1000] | None = None,
        exclude: app_commands.Range[str, 0, 1000] | None = None,
        language: app_commands.Range[str, 1, 20] | None = None,
    ) -> None:
        view = await resolve(self.store, interaction.guild_id, feed)
        changes: dict[str, object] = {}
        notes: list[str] = []
        if channel is not None:
            if interaction.guild is None or channel.guild.id != interaction.guild.id:
                raise UserError("That channel is not in this server.")
            problem = bot_permission_problem(channel)
            if problem:
                raise UserError(problem)
            changes["channel_id"] = channel.id
            notes.append(f"posts in {channel.mention}")
        if interval is not None:
            changes["interval"] = interval * 60
            notes.append(f"checked every {interval} min")
        if mention is not None and no_mention:
            raise UserError("Choose either `mention` or `no_mention`, not both.")
        if mention is not None:
            if mention.is_default():
                raise UserError("Pick a normal role to mention (not @everyone).")
            changes["mention_role_id"] = mention.id
            notes.append(f"mentions {mention.mention}")
        if no_mention:
            changes["mention_role_id"] = None
            notes.append("mentions nobody")
        if include is not None:
            changes["include_words"] = parse_words(include)
            notes.append("include words updated")
        if exclude is not None:
            changes["exclude_words"] = parse_words(exclude)
            notes.append("exclude words updated")
        if language is not None:
            changes["language"] = choice = self.app.translation_language(language)
            notes.append(_language_note(choice, "the server's language"))
        if not changes:
            raise UserError("Nothing to change: pick at least one option.")
        await self.app.edit(view, **changes)
        await interaction.response.send_message(
            f"✏️ Updated: {', '.join(notes)}.", ephemeral=True, allowed_mentions=NO_PINGS
        )

    @app_commands.command(name="pause", description="Stop posting a feed for now (articles meanwhile are skipped)")
    @app_commands.describe(feed="The feed to pause")
    async def pause(self, interaction: discord.Interaction, feed: app_commands.Range[str, 1, 2000]) -> None:
        view = await resolve(self.store, interaction.guild_id, feed)
        await self.app.pause(view, f"paused by {interaction.user.display_name}")
        await interaction.response.send_message("⏸️ Paused. `/feed resume` starts it again.", ephemeral=True)

    @app_commands.command(name="resume", description="Resume a paused or disabled feed")
    @app_commands.describe(feed="The feed to resume")
    async def resume(self, interaction: discord.Interaction, feed: app_commands.Range[str, 1, 2000]) -> None:
        view = await resolve(self.store, interaction.guild_id, feed)
        channel = interaction.guild.get_channel(view.subscription.channel_id) if interaction.guild else None
        if not isinstance(channel, discord.TextChannel):
            raise UserError("Its channel no longer exists; use `/feed edit` to pick another channel first.")
        problem = bot_permission_problem(channel)
        if problem:
            raise UserError(problem + " Fix that, then resume.")
        await self.app.resume(view)
        await interaction.response.send_message("▶️ Resumed.", ephemeral=True)

    @app_commands.command(name="test", description="Preview a feed's newest article without posting it")
    @app_commands.describe(feed="The feed to preview")
    async def test(self, interaction: discord.Interaction, feed: app_commands.Range[str, 1, 2000]) -> None:
        view = await resolve(self.store, interaction.guild_id, feed)
        await interaction.response.defer(ephemeral=True, thinking=True)
        preview = await self.app.preview(view)
        await self._send_preview(
            interaction,
            "🔎 Preview (not posted):" if preview.article else "🔎 The feed works.",
            preview,
            view.subscription.mention_role_id,
        )

    @app_commands.command(name="export", description="Download this server's feeds as an OPML file")
    async def export(self, interaction: discord.Interaction) -> None:
        assert interaction.guild is not None
        views = await self.store.guild_subscriptions(interaction.guild.id)
        unique = {v.feed.url: Outline(v.feed.title, v.feed.url) for v in views}
        data = to_opml(unique.values(), f"{interaction.guild.name} feeds")
        await interaction.response.send_message(
            f"📤 {len(unique)} feeds.", ephemeral=True, file=discord.File(io.BytesIO(data), filename="feeds.opml")
        )

    @app_commands.command(name="import", description="Follow every feed of an OPML file in a channel")
    @app_commands.describe(
        file="An OPML file (e.g. exported from another reader)",
        channel="Where their articles are posted (default: here)",
    )
    async def import_(
        self, interaction: discord.Interaction, file: discord.Attachment, channel: discord.TextChannel | None = None
    ) -> None:
        assert interaction.guild is not None
        target = channel or interaction.channel
        if not isinstance(target, discord.TextChannel) or target.guild.id != interaction.guild.id:
            raise UserError("Pick a text channel of this server with the `channel` option.")
        problem = bot_permission_problem(target)
        if problem:
            raise UserError(problem)
        if file.size > 1_000_000:
            raise UserError("That file is over 1 MB; OPML files are much smaller.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            outlines = parse_opml(await file.read())
        except (OPMLError, discord.HTTPException) as exc:
            raise UserError(f"Could not read the file: {exc}") from None
        requests = [FollowRequest(normalize_input_url(o.url), interaction.guild.id, target.id) for o in outlines]
        result = await self.app.follow_many(requests, what=f"OPML import in guild {interaction.guild.id}")
        added = len(result.added)
        skipped = [f"{cut(url, 80)}: {cut(reason, 200)}" for url, reason in result.skipped]
        if result.already:
            skipped.append(f"{result.already} already followed there")
        text = f"📥 Following {added} new feeds in {target.mention}."
        if skipped:
            text += f" Skipped {len(skipped)}:\n" + "\n".join(f"• {s}" for s in skipped[:10])
        text += "\nFeeds that turn out broken show their reason in `/feed list`."
        await interaction.followup.send(cut(text, 2000), ephemeral=True, allowed_mentions=NO_PINGS)

    for _cmd in (remove, edit, pause, resume, test):
        _cmd.autocomplete("feed")(_feed_autocomplete)
    del _cmd
