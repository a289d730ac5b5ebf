"""newsbot: a Discord news bot. Data flows source → fetch → parse → decide → extract → summarize → store → deliver."""

__version__ = "0.1.0"
