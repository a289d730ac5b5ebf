"""The Discord sink: a rendered Post becomes one message with one embed, sent exactly once.

Exactly once rests on three things: the outbox marks a delivery sent only after this returns; every send carries the
delivery's own nonce with ``enforce_nonce`` (discord.py sets it), so a retry after a timeout returns the message
Discord already created instead of a second one; and a delivery that was attempted before (``attempts > 0``, e.g.
the process died mid-send) first looks for itself in the channel's recent history, which covers restarts after
Discord has forgotten the nonce.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord

from bot.deliver import PermanentSendError, RejectedSendError, TransientSendError
from bot.models import Delivery, Post

log = logging.getLogger(__name__)

SEND_TIMEOUT = 30.0
HISTORY_LOOKBACK = 50


def to_embed(post: Post) -> discord.Embed:
    embed = discord.Embed(
        title=post.title, url=post.url, description=post.description or None, color=post.color, timestamp=post.timestamp
    )
    if post.author:
        embed.set_author(name=post.author)
    if post.image:
        embed.set_image(url=post.image)
    embed.set_footer(text=post.footer)
    for f in post.fields:
        embed.add_field(name=f.name, value=f.value, inline=False)
    return embed


def mentions_for(post: Post) -> discord.AllowedMentions:
    """Nobody may be pinged by a post except the subscription's own role, whatever the text says."""
    roles: list[discord.abc.Snowflake] | bool = (
        [discord.Object(post.mention_role_id)] if post.mention_role_id else False
    )
    return discord.AllowedMentions(everyone=False, users=False, roles=roles, replied_user=False)


def missing_permissions(channel: discord.abc.GuildChannel) -> list[str]:
    """The permissions a post needs that the bot lacks in this channel (checked before adding and before sending)."""
    perms = channel.permissions_for(channel.guild.me)
    needed = (
        ("View Channel", perms.view_channel),
        ("Send Messages", perms.send_messages),
        ("Embed Links", perms.embed_links),
    )
    return [name for name, ok in needed if not ok]


class DiscordSink:
    def __init__(self, client: discord.Client, timeout: float = SEND_TIMEOUT) -> None:
        self._client = client
        self._timeout = timeout

    async def _channel(self, channel_id: int) -> discord.abc.Messageable:
        channel = self._client.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self._client.fetch_channel(channel_id)
            except discord.NotFound:
                raise PermanentSendError("the channel no longer exists") from None
            except discord.Forbidden:
                raise PermanentSendError("the bot cannot see the channel (missing access)") from None
            except (discord.DiscordServerError, aiohttp.ClientError, TimeoutError) as exc:
                raise TransientSendError(f"Discord unavailable: {type(exc).__name__}") from None
        if not isinstance(channel, discord.abc.Messageable):
            raise PermanentSendError("the channel cannot hold messages")
        if isinstance(channel, discord.abc.GuildChannel):
            missing = missing_permissions(channel)
            if missing:
                raise PermanentSendError(f"missing permissions in #{channel.name}: {', '.join(missing)}")
        return channel

    async def _already_posted(self, channel: discord.abc.Messageable, post: Post) -> discord.Message | None:
        me = self._client.user
        try:
            async for message in channel.history(limit=HISTORY_LOOKBACK):
                if (
                    me
                    and message.author.id == me.id
                    and any(e.url == post.url and e.title == post.title for e in message.embeds)
                ):
                    return message
        except discord.HTTPException as exc:
            log.info("could not read history to check for an earlier send: %s", exc)
        return None

    async def send(self, delivery: Delivery, post: Post) -> int | None:
        channel = await self._channel(delivery.channel_id)
        if delivery.attempts > 0 and post.url:
            earlier = await self._already_posted(channel, post)
            if earlier is not None:
                log.info("delivery %s was already posted as message %s", delivery.id, earlier.id)
                return earlier.id
        try:
            async with asyncio.timeout(self._timeout):
                message = await channel.send(
                    content=post.content,
                    embed=to_embed(post),
                    nonce=delivery.nonce,
                    allowed_mentions=mentions_for(post),
                )
        except TimeoutError:
            raise TransientSendError(f"no answer from Discord within {self._timeout:g} s") from None
        except discord.NotFound as exc:
            raise PermanentSendError(f"the channel no longer exists ({exc.text or exc.status})") from None
        except discord.Forbidden as exc:
            raise PermanentSendError(f"missing permissions ({exc.text or exc.status})") from None
        except discord.DiscordServerError as exc:
            raise TransientSendError(f"Discord error {exc.status}") from None
        except discord.HTTPException as exc:
            if exc.status == 429 or exc.status >= 500:
                raise TransientSendError(f"Discord error {exc.status}") from None
            raise RejectedSendError(f"Discord refused the message: {exc.status} {exc.text}") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise TransientSendError(f"connection to Discord failed: {type(exc).__name__}") from None
        return message.id
