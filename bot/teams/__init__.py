"""The Teams adapter: a Microsoft 365 Agents SDK agent rendering the UI model as Adaptive Cards."""
