"""One place that turns command errors into a short, friendly ephemeral reply and a detailed log line."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.usecases import UseCaseError

log = logging.getLogger(__name__)


class UserError(app_commands.AppCommandError):
    """A problem the user can fix; its message is shown to them as is."""


async def reply(interaction: discord.Interaction, content: str, **kwargs: Any) -> None:
    """Answer whether or not the interaction was already acknowledged (deferred)."""
    kwargs.setdefault("ephemeral", True)
    if interaction.response.is_done():
        await interaction.followup.send(content, **kwargs)
    else:
        await interaction.response.send_message(content, **kwargs)


async def on_tree_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    name = interaction.command.qualified_name if interaction.command else "?"
    original = getattr(error, "original", None)
    if isinstance(original, UseCaseError):
        error = UserError(str(original))
    if isinstance(error, UserError):
        message = str(error)
        log.info("/%s in guild %s: %s", name, interaction.guild_id, message)
    elif isinstance(error, app_commands.MissingPermissions | app_commands.NoPrivateMessage):
        message = "You need the **Manage Server** permission to change this server's feeds."
        if isinstance(error, app_commands.NoPrivateMessage):
            message = "This command only works inside a server."
        log.info(
            "/%s refused for user %s in guild %s: %s",
            name,
            interaction.user.id,
            interaction.guild_id,
            type(error).__name__,
        )
    elif isinstance(error, app_commands.TransformerError | app_commands.CommandSignatureMismatch):
        message = "That option value is not valid here. Please pick one from the list."
        log.info("/%s bad option: %s", name, error)
    else:
        original = getattr(error, "original", error)
        log.error("/%s failed in guild %s", name, interaction.guild_id, exc_info=original)
        message = "Something went wrong on our side; it has been logged. Please try again in a minute."
    try:
        await reply(interaction, f"⚠️ {message}")
    except discord.HTTPException:
        log.warning("could not send the error reply for /%s", name)
