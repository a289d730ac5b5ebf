"""Feed options shared by the admin and member commands: autocomplete and resolving a choice, guild-scoped.

Every lookup goes through ``Store.subscription(id, guild_id)``: a guild can never name another guild's feed, even
by typing an id by hand instead of picking from the list.
"""

from __future__ import annotations

import unicodedata

import discord
from discord import app_commands

from bot.discordbot.errors import UserError
from bot.store import Store, SubscriptionView

MAX_OPTION = 100  # Discord's limit for an autocomplete choice's name and value


def label(view: SubscriptionView, guild: discord.Guild | None) -> str:
    channel = guild.get_channel(view.subscription.channel_id) if guild else None
    where = f" → #{channel.name}" if channel else ""
    title = view.label
    text = f"{title}{where}"
    return text if len(text) <= MAX_OPTION else text[: MAX_OPTION - 1] + "…"


async def feed_choices(store: Store, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    needle = current.casefold().strip()
    views = await store.guild_subscriptions(interaction.guild_id)
    matches = [v for v in views if not needle or needle in f"{v.label} {v.feed.title} {v.feed.url}".casefold()]
    return [app_commands.Choice(name=label(v, interaction.guild), value=str(v.subscription.id)) for v in matches[:25]]


async def resolve(store: Store, guild_id: int | None, value: str) -> SubscriptionView:
    if guild_id is None:
        raise UserError("This command only works inside a server.")
    value = value.strip()[:2000]
    if value.isdigit() and len(value) < 19:
        found = await store.subscription(int(value), guild_id)
        if found:
            return found
    needle = value.casefold()
    views = await store.guild_subscriptions(guild_id)
    exact = [v for v in views if needle in (v.feed.url.casefold(), v.feed.title.casefold(), v.label.casefold())]
    partial = exact or [v for v in views if needle and needle in f"{v.label} {v.feed.title} {v.feed.url}".casefold()]
    if len(partial) == 1:
        return partial[0]
    if len(partial) > 1:
        raise UserError("More than one feed matches that; please pick one from the list.")
    raise UserError("No feed of this server matches that. `/feed list` shows them.")


def normalize_input_url(url: str) -> str:
    """Drop invisible format characters (zero-width, bidi) a paste may carry; never change visible ones."""
    url = "".join(c for c in url if unicodedata.category(c) != "Cf").strip()
    if url and "://" not in url and "." in url.split("/")[0]:
        url = "https://" + url
    return url
