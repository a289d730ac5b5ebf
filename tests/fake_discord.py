"""A fake Discord on 127.0.0.1: the gateway websocket and the REST routes newsbot uses.

An unmodified discord.py client connects to it (REST base via ``discord.api_base_url``; the gateway URL comes from
``GET /gateway/bot`` as with the real Discord). It validates what Discord validates for messages (content and embed
limits, allowed_mentions), honours ``enforce_nonce``, applies per-channel rate limits with real 429 responses, and
can inject faults: 5xx, timeouts after accepting a message, 429 storms and dropped gateway connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

TOKEN = "fake-token-abc.def.ghi"
BOT_ID = 900_000_000_000_000_001
APP_ID = 900_000_000_000_000_002
MANAGE_GUILD = 1 << 5
ALL_PERMS = (1 << 41) - 1
MEMBER_PERMS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16)  # view, send, embed links, read history
_ids = itertools.count(1_000_000_000_000_000_000)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON the way Discord sends it: discord.py parses only an exact 'application/json' content type."""
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={**(headers or {}), "Content-Type": "application/json"}
    )


def snowflake() -> int:
    return next(_ids)


def _user(uid: int, name: str, bot: bool = False) -> dict[str, Any]:
    return {"id": str(uid), "username": name, "discriminator": "0", "global_name": name, "avatar": None, "bot": bot}


@dataclass
class Channel:
    id: int
    guild_id: int
    name: str
    bot_perms: int = ALL_PERMS  # what the bot may do here (a deny overwrite is created when lower)

    def payload(self) -> dict[str, Any]:
        overwrites = []
        if self.bot_perms != ALL_PERMS:
            overwrites.append({"id": str(BOT_ID), "type": 1, "allow": "0", "deny": str(ALL_PERMS & ~self.bot_perms)})
        return {
            "id": str(self.id),
            "type": 0,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": 0,
            "permission_overwrites": overwrites,
            "parent_id": None,
            "nsfw": False,
            "topic": None,
            "rate_limit_per_user": 0,
            "last_message_id": None,
        }


@dataclass
class Guild:
    id: int
    name: str
    channels: dict[int, Channel] = field(default_factory=dict)
    roles: dict[int, str] = field(default_factory=dict)
    system_channel_id: int | None = None

    def payload(self) -> dict[str, Any]:
        roles = [
            {
                "id": str(self.id),
                "name": "@everyone",
                "permissions": str(ALL_PERMS),
                "position": 0,
                "color": 0,
                "hoist": False,
                "managed": False,
                "mentionable": False,
            }
        ]
        roles += [
            {
                "id": str(rid),
                "name": name,
                "permissions": "0",
                "position": 1,
                "color": 0,
                "hoist": False,
                "managed": False,
                "mentionable": True,
            }
            for rid, name in self.roles.items()
        ]
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "owner_id": "1",
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": roles,
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "member_count": 2,
            "system_channel_id": str(self.system_channel_id) if self.system_channel_id else None,
            "channels": [c.payload() for c in self.channels.values()],
            "threads": [],
            "voice_states": [],
            "presences": [],
            "large": False,
            "unavailable": False,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "members": [
                {
                    "user": _user(BOT_ID, "newsbot", bot=True),
                    "roles": [],
                    "joined_at": "2026-01-01T00:00:00+00:00",
                    "deaf": False,
                    "mute": False,
                    "flags": 0,
                }
            ],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


class ValidationError(Exception):
    pass


def validate_embed(embed: dict[str, Any]) -> int:
    limits = {"title": 256, "description": 4096}
    total = 0
    for key, limit in limits.items():
        value = embed.get(key) or ""
        if len(value) > limit:
            raise ValidationError(f"embed.{key} longer than {limit}")
        total += len(value)
    footer = (embed.get("footer") or {}).get("text") or ""
    author = (embed.get("author") or {}).get("name") or ""
    if len(footer) > 2048 or len(author) > 256:
        raise ValidationError("embed footer/author too long")
    fields = embed.get("fields") or []
    if len(fields) > 25:
        raise ValidationError("more than 25 fields")
    for f in fields:
        if len(f.get("name", "")) > 256 or len(f.get("value", "")) > 1024 or not f.get("name") or not f.get("value"):
            raise ValidationError("bad embed field")
        total += len(f["name"]) + len(f["value"])
    total += len(footer) + len(author)
    if total > 6000:
        raise ValidationError("embed longer than 6000 in total")
    for key in ("url",):
        url = embed.get(key)
        if url is not None and not str(url).startswith(("http://", "https://")):
            raise ValidationError(f"embed.{key} is not a URL")
    for key in ("image", "thumbnail"):
        url = (embed.get(key) or {}).get("url")
        if url is not None and not str(url).startswith(("http://", "https://", "attachment://")):
            raise ValidationError(f"embed.{key}.url is not a URL")
    return total


def validate_message(payload: dict[str, Any]) -> None:
    content = payload.get("content") or ""
    if len(content) > 2000:
        raise ValidationError("content longer than 2000")
    embeds = payload.get("embeds") or []
    if len(embeds) > 10:
        raise ValidationError("more than 10 embeds")
    total = sum(validate_embed(e) for e in embeds)
    if total > 6000:
        raise ValidationError("embeds longer than 6000 in total")
    if not content and not embeds and not payload.get("attachments") and not payload.get("poll"):
        raise ValidationError("empty message")


@dataclass
class Interaction:
    id: int
    token: str
    responses: list[dict[str, Any]] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def first(self) -> dict[str, Any]:
        return self.responses[0]

    def text(self) -> str:
        """Everything the user was shown: contents, embed text and file names, in order."""
        out = []
        for r in self.responses:
            out.append(r.get("content") or "")
            for e in r.get("embeds") or []:
                out.append(e.get("title") or "")
                out.append(e.get("description") or "")
                out.extend(f"{f['name']} {f['value']}" for f in e.get("fields") or [])
                out.append((e.get("footer") or {}).get("text") or "")
            out.extend(a.get("filename", "") for a in r.get("attachments") or [])
        return "\n".join(x for x in out if x)

    def ephemeral(self) -> bool:
        return all((r.get("flags") or 0) & 64 for r in self.responses if r.get("_kind") != "defer-public")


class FakeDiscord:
    def __init__(self) -> None:
        self.guilds: dict[int, Guild] = {}
        self.messages: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.nonces: dict[tuple[int, str], dict[str, Any]] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.command_syncs = 0
        self.interactions: dict[int, Interaction] = {}
        self.rejected: list[str] = []  # validation failures: a test asserts this stays empty
        self.rate_limited = 0  # 429s sent
        self.post_times: list[tuple[int, float]] = []  # (channel, when) of each accepted message
        self.limited_at: list[tuple[int, float, float]] = []  # (channel, when, retry_after) of each 429
        self.faults: list[str] = []  # consumed in order by message posts: "500", "502", "timeout-after-accept", "429"
        self.rate_per_channel = (5, 5.0)  # messages per window per channel, as Discord's bucket
        self._windows: dict[int, list[float]] = defaultdict(list)
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_shards: dict[int, tuple[int, int]] = {}  # id(ws) -> (shard id, shard count) from IDENTIFY
        self.identifies = 0
        self.resumes = 0
        self.sequence = 0
        self.session_id = "fake-session"
        self.base = ""
        self.deleted_channels: set[int] = set()
        self.uploads: list[tuple[str, bytes]] = []
        self.attachments: dict[str, bytes] = {}
        self.app = web.Application(client_max_size=30 * 1024 * 1024)
        r = self.app.router
        r.add_get("/gateway", self.gateway)
        r.add_get("/api/v10/gateway/bot", self.gateway_bot)
        r.add_get("/api/v10/users/@me", self.me)
        r.add_get("/api/v10/applications/@me", self.application)
        r.add_get("/api/v10/oauth2/applications/@me", self.application)
        r.add_get("/api/v10/applications/{app}/commands", self.get_commands)
        r.add_put("/api/v10/applications/{app}/commands", self.put_commands)
        r.add_post("/api/v10/channels/{channel}/messages", self.post_message)
        r.add_get("/api/v10/channels/{channel}/messages", self.get_messages)
        r.add_get("/api/v10/channels/{channel}", self.get_channel)
        r.add_post("/api/v10/interactions/{id}/{token}/callback", self.callback)
        r.add_post("/api/v10/webhooks/{app}/{token}", self.followup)
        r.add_patch("/api/v10/webhooks/{app}/{token}/messages/@original", self.edit_original)
        r.add_get("/api/v10/webhooks/{app}/{token}/messages/@original", self.get_original)
        r.add_get("/attachments/{name}", self.get_attachment)

    # ----- setup helpers for tests

    def add_guild(
        self,
        name: str,
        channels: tuple[str, ...] = ("news",),
        roles: tuple[str, ...] = (),
        shard: tuple[int, int] | None = None,
    ) -> Guild:
        """A guild; with ``shard=(id, count)`` its id is chosen so Discord's ``(id >> 22) % count`` gives that shard."""
        gid = snowflake()
        if shard is not None:
            gid = ((gid >> 22) // shard[1] * shard[1] + shard[0] + shard[1]) << 22 | (gid & 0x3FFFFF)
        guild = Guild(gid, name)
        for ch in channels:
            c = Channel(snowflake(), guild.id, ch)
            guild.channels[c.id] = c
        for role in roles:
            guild.roles[snowflake()] = role
        guild.system_channel_id = next(iter(guild.channels))
        self.guilds[guild.id] = guild
        return guild

    def channel(self, guild: Guild, name: str) -> Channel:
        return next(c for c in guild.channels.values() if c.name == name)

    def posted(self, channel_id: int) -> list[dict[str, Any]]:
        return self.messages.get(channel_id, [])

    # ----- auth and errors

    def _auth(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bot {TOKEN}":
            raise web.HTTPUnauthorized(
                text=json.dumps({"message": "401: Unauthorized", "code": 0}),
                headers={"Content-Type": "application/json"},
            )

    def _invalid(self, payload: dict[str, Any]) -> web.Response | None:
        """Discord's 400 for a message it would not accept; recorded so tests can assert there were none."""
        try:
            validate_message(payload)
        except ValidationError as exc:
            self.rejected.append(str(exc))
            return self._error(400, 50035, f"Invalid Form Body: {exc}")
        return None

    @staticmethod
    def _error(status: int, code: int, message: str, **headers: str) -> web.Response:
        return _json({"message": message, "code": code}, status=status, headers=headers)

    # ----- REST

    async def gateway_bot(self, request: web.Request) -> web.Response:
        self._auth(request)
        ws = self.base.replace("http://", "ws://") + "/gateway"
        return _json(
            {
                "url": ws,
                "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
            }
        )

    async def me(self, request: web.Request) -> web.Response:
        self._auth(request)
        return _json(_user(BOT_ID, "newsbot", bot=True))

    async def application(self, request: web.Request) -> web.Response:
        self._auth(request)
        return _json(
            {
                "id": str(APP_ID),
                "name": "newsbot",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "x",
                "owner": _user(1, "owner"),
                "flags": 0,
            }
        )

    async def get_commands(self, request: web.Request) -> web.Response:
        self._auth(request)
        return _json(self.global_commands)

    async def put_commands(self, request: web.Request) -> web.Response:
        self._auth(request)
        body = await request.json()
        self.command_syncs += 1
        self.global_commands = [
            {**c, "id": str(snowflake()), "application_id": str(APP_ID), "version": "1"} for c in body
        ]
        return _json(self.global_commands)

    async def get_channel(self, request: web.Request) -> web.Response:
        self._auth(request)
        cid = int(request.match_info["channel"])
        for guild in self.guilds.values():
            if cid in guild.channels:
                return _json(guild.channels[cid].payload())
        return self._error(404, 10003, "Unknown Channel")

    def _find_channel(self, cid: int) -> Channel | None:
        for guild in self.guilds.values():
            if cid in guild.channels:
                return guild.channels[cid]
        return None

    async def _read_payload(self, request: web.Request) -> dict[str, Any]:
        if request.content_type.startswith("multipart/"):
            payload: dict[str, Any] = {}
            files: list[dict[str, Any]] = []
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                data = await part.read()  # type: ignore[union-attr]
                if part.name == "payload_json":  # type: ignore[union-attr]
                    payload = json.loads(data)
                else:
                    name = part.filename or "file"  # type: ignore[union-attr]
                    self.uploads.append((name, bytes(data)))
                    self.attachments[name] = bytes(data)
                    where = f"{self.base}/attachments/{name}"
                    files.append(
                        {"id": str(snowflake()), "filename": name, "size": len(data), "url": where, "proxy_url": where}
                    )
            payload["attachments"] = files
            return payload
        return await request.json()

    def _message(self, channel_id: int, payload: dict[str, Any], *, author_bot: bool = True) -> dict[str, Any]:
        msg = {
            "id": str(snowflake()),
            "channel_id": str(channel_id),
            "type": 0,
            "tts": False,
            "author": _user(BOT_ID, "newsbot", bot=True) if author_bot else _user(1, "user"),
            "content": payload.get("content") or "",
            "embeds": payload.get("embeds") or [],
            "attachments": payload.get("attachments") or [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "timestamp": "2026-01-01T00:00:00+00:00",
            "edited_timestamp": None,
            "flags": payload.get("flags") or 0,
            "components": [],
            "allowed_mentions": payload.get("allowed_mentions"),
            "nonce": payload.get("nonce"),
        }
        return msg

    def _rate_limited(self, channel_id: int) -> float | None:
        count, window = self.rate_per_channel
        now = time.monotonic()
        stamps = [t for t in self._windows[channel_id] if now - t < window]
        self._windows[channel_id] = stamps
        if len(stamps) >= count:
            return window - (now - stamps[0])
        stamps.append(now)
        return None

    async def post_message(self, request: web.Request) -> web.Response:
        self._auth(request)
        cid = int(request.match_info["channel"])
        channel = self._find_channel(cid)
        if channel is None:
            return self._error(404, 10003, "Unknown Channel")
        if not channel.bot_perms & (1 << 11) or not channel.bot_perms & (1 << 10):
            return self._error(403, 50013, "Missing Permissions")
        fault = self.faults.pop(0) if self.faults else None
        if fault in ("500", "502"):
            return self._error(int(fault), 0, "Server Error")
        if fault == "429":
            self.rate_limited += 1
            return _json(
                {"message": "You are being rate limited.", "retry_after": 0.5, "global": False},
                status=429,
                headers={"Retry-After": "0.5", "X-RateLimit-Scope": "user", "Via": "1.1 google"},
            )
        payload = await self._read_payload(request)
        if (refused := self._invalid(payload)) is not None:
            return refused
        nonce = payload.get("nonce")
        if nonce and payload.get("enforce_nonce") and (cid, str(nonce)) in self.nonces:
            return _json(self.nonces[(cid, str(nonce))])
        wait = self._rate_limited(cid)
        if wait is not None:
            self.rate_limited += 1
            self.limited_at.append((cid, time.monotonic(), wait))
            return _json(
                {"message": "You are being rate limited.", "retry_after": round(wait, 3), "global": False},
                status=429,
                headers={
                    "Retry-After": str(max(1, round(wait))),
                    "X-RateLimit-Remaining": "0",
                    "Via": "1.1 google",
                    "X-RateLimit-Reset-After": f"{wait:.3f}",
                    "X-RateLimit-Bucket": f"ch{cid}",
                    "X-RateLimit-Scope": "user",
                    "X-RateLimit-Limit": "5",
                },
            )
        msg = self._message(cid, payload)
        self.messages[cid].append(msg)
        self.post_times.append((cid, time.monotonic()))
        if nonce:
            self.nonces[(cid, str(nonce))] = msg
        if fault == "timeout-after-accept":
            await asyncio.sleep(30)  # accepted, but the client gives up waiting (send_timeout) first
        count, window = self.rate_per_channel
        stamps = self._windows[cid]
        remaining = max(0, count - len(stamps))
        reset_after = max(0.001, window - (time.monotonic() - stamps[0])) if stamps else window
        return _json(
            msg,
            headers={
                "X-RateLimit-Limit": str(count),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Bucket": f"ch{cid}",
            },
        )

    async def get_messages(self, request: web.Request) -> web.Response:
        self._auth(request)
        cid = int(request.match_info["channel"])
        if self._find_channel(cid) is None:
            return self._error(404, 10003, "Unknown Channel")
        limit = int(request.query.get("limit", "50"))
        return _json(list(reversed(self.messages.get(cid, [])))[:limit])

    async def get_attachment(self, request: web.Request) -> web.Response:
        data = self.attachments.get(request.match_info["name"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type="application/octet-stream")

    # ----- interactions

    def _interaction(self, request: web.Request) -> Interaction | None:
        for inter in self.interactions.values():
            if inter.token == request.match_info["token"]:
                return inter
        return None

    async def callback(self, request: web.Request) -> web.Response:
        inter = self._interaction(request)
        if inter is None or int(request.match_info["id"]) != inter.id:
            return self._error(404, 10062, "Unknown interaction")
        payload = await self._read_payload(request)
        kind = payload.get("type")
        data = payload.get("data") or {}
        if kind == 8:  # autocomplete
            choices = data.get("choices") or []
            if len(choices) > 25 or any(len(c["name"]) > 100 or len(str(c["value"])) > 100 for c in choices):
                self.rejected.append("bad autocomplete choices")
                return self._error(400, 50035, "Invalid Form Body")
            inter.responses.append({"_kind": "autocomplete", "choices": choices})
            inter.done.set()
        elif kind == 5:  # deferred: the real answer comes as a follow-up or an edit
            inter.responses.append(
                {"_kind": "defer" if (data.get("flags") or 0) & 64 else "defer-public", "flags": data.get("flags") or 0}
            )
        elif kind == 4:
            if (refused := self._invalid(data)) is not None:
                return refused
            inter.responses.append({"_kind": "message", **data})
            inter.done.set()
        else:
            inter.responses.append({"_kind": f"type{kind}", **data})
            inter.done.set()
        message = self._message(0, data)
        return _json(
            {
                "interaction": {
                    "id": str(inter.id),
                    "type": 2,
                    "response_message_id": message["id"],
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": bool((data.get("flags") or 0) & 64),
                },
                "resource": {"type": kind, "message": message if kind == 4 else None},
            }
        )

    async def _webhook_message(self, request: web.Request, kind: str) -> web.Response:
        """A follow-up or an edit of the original reply: validated like any message, recorded on the interaction."""
        inter = self._interaction(request)
        if inter is None:
            return self._error(404, 10015, "Unknown Webhook")
        payload = await self._read_payload(request)
        if (refused := self._invalid(payload)) is not None:
            return refused
        if kind == "edit":  # an edit keeps the original's visibility
            payload = {"flags": inter.responses[0].get("flags", 0) if inter.responses else 0, **payload}
        inter.responses.append({"_kind": kind, **payload})
        inter.done.set()
        return _json(self._message(0, payload))

    async def followup(self, request: web.Request) -> web.Response:
        return await self._webhook_message(request, "followup")

    async def edit_original(self, request: web.Request) -> web.Response:
        return await self._webhook_message(request, "edit")

    async def get_original(self, request: web.Request) -> web.Response:
        inter = self._interaction(request)
        if inter is None:
            return self._error(404, 10008, "Unknown Message")
        return _json(self._message(0, inter.responses[-1] if inter.responses else {}))

    async def invoke(
        self,
        guild: Guild,
        channel: Channel,
        command: str,
        subcommand: str | None = None,
        options: dict[str, Any] | None = None,
        *,
        user_id: int = 42,
        permissions: int = ALL_PERMS,
        focused: str | None = None,
        timeout: float = 15.0,
        attachment: tuple[str, bytes] | None = None,
    ) -> Interaction:
        """Send INTERACTION_CREATE as a member would trigger it, and wait for the bot's answer."""
        inter = Interaction(snowflake(), f"tok{snowflake()}")
        self.interactions[inter.id] = inter
        cmd = next((c for c in self.global_commands if c["name"] == command), None)
        opts = []
        resolved: dict[str, Any] = {}
        for name, value in (options or {}).items():
            opt_type = self._option_type(cmd, subcommand, name)
            if opt_type == 7:
                resolved.setdefault("channels", {})[str(value.id)] = {**value.payload(), "permissions": str(ALL_PERMS)}
                value = str(value.id)
            elif opt_type == 8:
                resolved.setdefault("roles", {})[str(value)] = {
                    "id": str(value),
                    "name": guild.roles.get(int(value), "role"),
                    "permissions": "0",
                    "position": 1,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": True,
                }
                value = str(value)
            elif opt_type == 11 and attachment is not None:
                aid = str(snowflake())
                self.attachments[attachment[0]] = attachment[1]
                resolved.setdefault("attachments", {})[aid] = {
                    "id": aid,
                    "filename": attachment[0],
                    "size": len(attachment[1]),
                    "url": f"{self.base}/attachments/{attachment[0]}",
                    "proxy_url": f"{self.base}/attachments/{attachment[0]}",
                }
                value = aid
            entry: dict[str, Any] = {"name": name, "type": opt_type, "value": value}
            if focused == name:
                entry["focused"] = True
            opts.append(entry)
        data: dict[str, Any] = {
            "id": cmd["id"] if cmd else str(snowflake()),
            "name": command,
            "type": 1,
            "guild_id": str(guild.id),
        }
        data["options"] = [{"name": subcommand, "type": 1, "options": opts}] if subcommand else opts
        if resolved:
            data["resolved"] = resolved
        payload: dict[str, Any] = {
            "id": str(inter.id),
            "application_id": str(APP_ID),
            "type": 4 if focused else 2,
            "token": inter.token,
            "version": 1,
            "guild_id": str(guild.id),
            "channel_id": str(channel.id),
            "channel": {**channel.payload(), "permissions": str(ALL_PERMS)},
            "member": {
                "user": _user(user_id, f"user{user_id}"),
                "roles": [],
                "permissions": str(permissions),
                "joined_at": "2026-01-01T00:00:00+00:00",
                "deaf": False,
                "mute": False,
                "nick": None,
                "flags": 0,
            },
            "app_permissions": str(channel.bot_perms),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
            "data": data,
        }
        await self.dispatch("INTERACTION_CREATE", payload)
        await asyncio.wait_for(inter.done.wait(), timeout)
        return inter

    def _option_type(self, cmd: dict[str, Any] | None, sub: str | None, name: str) -> int:
        if cmd is None:
            return 3
        options = cmd.get("options") or []
        if sub:
            options = next((o.get("options") or [] for o in options if o["name"] == sub), [])
        return next((o["type"] for o in options if o["name"] == name), 3)

    # ----- gateway

    def _owns(self, ws: web.WebSocketResponse, guild_id: int | None) -> bool:
        shard_id, count = self.socket_shards.get(id(ws), (0, 1))
        return guild_id is None or (guild_id >> 22) % count == shard_id

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send an event as Discord does: a guild's events only to the connection of the shard that owns it."""
        self.sequence += 1
        raw = data.get("guild_id") or (data.get("id") if event.startswith("GUILD_") else None)
        guild_id = int(raw) if raw is not None else None
        for ws in list(self.sockets):
            if not ws.closed and self._owns(ws, guild_id):
                await ws.send_str(json.dumps({"op": 0, "t": event, "s": self.sequence, "d": data}))

    async def delete_channel(self, guild: Guild, channel: Channel) -> None:
        del guild.channels[channel.id]
        self.deleted_channels.add(channel.id)
        await self.dispatch("CHANNEL_DELETE", channel.payload())

    async def remove_guild(self, guild: Guild) -> None:
        del self.guilds[guild.id]
        await self.dispatch("GUILD_DELETE", {"id": str(guild.id)})

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close every gateway connection as a network blip would (4000: the client may resume)."""
        for ws in list(self.sockets):
            await ws.close(code=code, message=b"dropped by test")

    async def invalidate_session(self) -> None:
        """Tell every client its session is gone (op 9, not resumable): it must IDENTIFY afresh."""
        for ws in list(self.sockets):
            await ws.send_str(json.dumps({"op": 9, "d": False}))

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                if op == 1:
                    await ws.send_str(json.dumps({"op": 11}))
                elif op == 2:
                    if frame["d"].get("token") != TOKEN:
                        await ws.close(code=4004, message=b"Authentication failed.")
                        break
                    self.identifies += 1
                    shard = frame["d"].get("shard") or [0, 1]
                    self.socket_shards[id(ws)] = (int(shard[0]), int(shard[1]))
                    await self._ready(ws)
                elif op == 6:
                    self.resumes += 1
                    self.sequence += 1
                    await ws.send_str(json.dumps({"op": 0, "t": "RESUMED", "s": self.sequence, "d": {}}))
        finally:
            with contextlib.suppress(ValueError):
                self.sockets.remove(ws)
        return ws

    async def _ready(self, ws: web.WebSocketResponse) -> None:
        self.sequence += 1
        shard = self.socket_shards.get(id(ws), (0, 1))
        mine = [g for g in self.guilds.values() if self._owns(ws, g.id)]
        ready = {
            "v": 10,
            "user": _user(BOT_ID, "newsbot", bot=True),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in mine],
            "session_id": self.session_id,
            "resume_gateway_url": self.base.replace("http://", "ws://") + "/gateway",
            "shard": list(shard),
            "application": {"id": str(APP_ID), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": self.sequence, "d": ready}))
        for guild in mine:
            self.sequence += 1
            await ws.send_str(json.dumps({"op": 0, "t": "GUILD_CREATE", "s": self.sequence, "d": guild.payload()}))


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord) -> AsyncIterator[FakeDiscord]:
    runner = web.AppRunner(fake.app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.base = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        for ws in list(fake.sockets):
            await ws.close()
        await runner.shutdown()
        await runner.cleanup()
