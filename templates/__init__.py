"""Jinja2 templates: the words of messages and the letters the bot drafts."""
