"""Persistence behind one interface, two backends: SQLite (``sqlite``, the embedded default) or PostgreSQL
(``postgres``, for several processes). ``store`` holds the SQL both speak; ``backend`` the small protocol each
database implements; ``records`` the plain data that crosses the boundary; ``copy`` moves an installation."""

from bot.store.records import (
    ArticleWrite,
    FeedOutcome,
    Follow,
    Followed,
    ShardSet,
    StoreError,
    SubscriptionView,
)
from bot.store.rows import Backfill, is_postgres
from bot.store.store import Store

__all__ = [
    "ArticleWrite",
    "Backfill",
    "FeedOutcome",
    "Follow",
    "Followed",
    "ShardSet",
    "Store",
    "StoreError",
    "SubscriptionView",
    "is_postgres",
]
