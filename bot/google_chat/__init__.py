"""The Google Chat adapter: an HTTP endpoint for Chat app events, Cards v2 and dialogs, and
proactive messages through the Chat API as the app."""
