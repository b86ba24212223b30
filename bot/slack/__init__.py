"""The Slack adapter: a Bolt app that renders the neutral UI model as Block Kit."""
