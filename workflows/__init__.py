"""The platform-neutral core: workflows, deadlines, people, audit and reminders. No chat imports."""
