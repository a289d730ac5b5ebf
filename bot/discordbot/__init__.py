"""The Discord shell: everything that imports discord.py lives in this package, downstream of the outbox."""
