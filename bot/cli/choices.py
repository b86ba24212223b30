"""The closed lists a command offers, as Typer choices: `--help` lists them, and a wrong
value is refused before the command runs, naming the ones that exist.

They mirror the core's tables (named beside each) rather than import them, because importing
the models would make every `dpo-bot --help` pay for SQLAlchemy; tests/test_cli.py holds each
equal to its table.
"""

from typing import Literal

Region = Literal["ENG", "WLS", "SCT", "NIR"]  # workflows.deadlines.REGIONS
Role = Literal["staff", "dpo", "deputy", "head", "governor"]  # workflows.people.models.Role
ExportFormat = Literal["csv", "json"]  # what workflows.core.export writes
ConsentFormat = Literal["sims", "arbor", "bromcom", "generic"]  # workflows.consent.formats.FORMATS
Lookups = Literal["everyone", "listed"]  # workflows.consent.settings.lookups_restricted
ListFormat = Literal["html", "md"]  # workflows.documents.software_list.Format
