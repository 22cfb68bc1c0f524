"""Configuration from the environment (or a `.env` file), validated at start-up.

Bot Framework keys keep their usual names (`MicrosoftAppId`…); everything else is `MARAT_…`.
A bad value stops start-up with a message naming the key, never with a traceback.
"""

from __future__ import annotations

from datetime import date, datetime, time
from ipaddress import ip_address
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.calendar import WorkingDayCalendar
from bot.domain.deadlines import DeadlinePolicy

DEFAULT_DATABASE = "sqlite:///marat.sqlite3"


class SettingsError(Exception):
    """Start-up configuration is invalid; the message names each bad key."""


def _split(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, frozen=True
    )

    app_id: str = Field("", validation_alias=AliasChoices("MicrosoftAppId", "MICROSOFT_APP_ID"))
    app_password: str = Field(
        "", validation_alias=AliasChoices("MicrosoftAppPassword", "MICROSOFT_APP_PASSWORD")
    )
    app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = Field(
        "MultiTenant", validation_alias=AliasChoices("MicrosoftAppType", "MICROSOFT_APP_TYPE")
    )
    app_tenant_id: str = Field(
        "", validation_alias=AliasChoices("MicrosoftAppTenantId", "MICROSOFT_APP_TENANT_ID")
    )
    allowed_tenants: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="MARAT_ALLOWED_TENANTS"
    )

    database_url: str = Field(
        DEFAULT_DATABASE, validation_alias=AliasChoices("DATABASE_URL", "MARAT_DATABASE_URL")
    )
    host: str = Field("127.0.0.1", validation_alias="MARAT_HOST")
    port: int = Field(3978, ge=1, le=65535, validation_alias="MARAT_PORT")

    region: Literal["ENG", "WLS", "SCT", "NIR"] = Field("ENG", validation_alias="MARAT_REGION")
    extra_holidays: Annotated[list[date], NoDecode] = Field(
        default_factory=list, validation_alias="MARAT_EXTRA_HOLIDAYS"
    )
    extra_working_days: Annotated[list[date], NoDecode] = Field(
        default_factory=list, validation_alias="MARAT_EXTRA_WORKING_DAYS"
    )
    information_due_day: int = Field(2, ge=0, le=30, validation_alias="MARAT_INFORMATION_DUE_DAY")
    discussion_day: int = Field(3, ge=0, le=30, validation_alias="MARAT_DISCUSSION_DAY")
    earliest_conference_day: int = Field(
        4, ge=1, le=60, validation_alias="MARAT_EARLIEST_CONFERENCE_DAY"
    )
    conference_target_day: int = Field(
        14, ge=1, le=60, validation_alias="MARAT_CONFERENCE_TARGET_DAY"
    )
    conference_capacity: int = Field(18, ge=1, le=100, validation_alias="MARAT_CONFERENCE_CAPACITY")
    send_time: time = Field(time(9, 0), validation_alias="MARAT_SEND_TIME")
    received_max_age_days: int = Field(
        28, ge=1, le=366, validation_alias="MARAT_RECEIVED_MAX_AGE_DAYS"
    )
    case_prefix: str = Field(
        "MARAT", pattern=r"^[A-Z][A-Z0-9]{1,11}$", validation_alias="MARAT_CASE_PREFIX"
    )
    repeat_rule: Literal["name_and_dob", "name_or_dob_missing"] = Field(
        "name_and_dob", validation_alias="MARAT_REPEAT_RULE"
    )
    help_contact: str = Field(
        "your MARAT coordinator", max_length=200, validation_alias="MARAT_HELP_CONTACT"
    )
    sweep_seconds: float = Field(60.0, ge=1, le=3600, validation_alias="MARAT_SWEEP_SECONDS")
    reminder_lease_seconds: float = Field(
        300.0, ge=1, le=3600, validation_alias="MARAT_REMINDER_LEASE_SECONDS"
    )
    outbox_lease_seconds: float = Field(
        120.0, ge=1, le=3600, validation_alias="MARAT_OUTBOX_LEASE_SECONDS"
    )
    connector_timeout_seconds: float = Field(
        15.0, ge=0.1, le=120, validation_alias="MARAT_CONNECTOR_TIMEOUT_SECONDS"
    )
    capacity_warning_threshold: float = Field(
        50.0, gt=0, le=100, validation_alias="MARAT_CAPACITY_WARNING_THRESHOLD"
    )
    adult_female_population: int | None = Field(
        None, ge=1, le=100_000_000, validation_alias="MARAT_ADULT_FEMALE_POPULATION"
    )
    clock_start: datetime | None = Field(None, validation_alias="MARAT_CLOCK_START")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias="MARAT_LOG_LEVEL"
    )

    _split_lists = field_validator(
        "allowed_tenants", "extra_holidays", "extra_working_days", mode="before"
    )(_split)

    @field_validator("send_time")
    @classmethod
    def _office_hours(cls, value: time) -> time:
        if not time(8, 0) <= value < time(18, 0):
            raise ValueError("must be from 08:00 to before 18:00 Europe/London")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if not self.discussion_day < self.earliest_conference_day <= self.conference_target_day:
            raise ValueError(
                "MARAT_DISCUSSION_DAY must be before MARAT_EARLIEST_CONFERENCE_DAY, which must "
                "not be after MARAT_CONFERENCE_TARGET_DAY"
            )
        return self

    @property
    def tenants(self) -> frozenset[str]:
        ids = {t.lower() for t in self.allowed_tenants}
        if self.app_tenant_id:
            ids.add(self.app_tenant_id.lower())
        return frozenset(ids)

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ip_address(self.host).is_loopback
        except ValueError:
            return False

    def policy(self) -> DeadlinePolicy:
        return DeadlinePolicy(
            self.information_due_day,
            self.discussion_day,
            self.earliest_conference_day,
            self.conference_target_day,
        )

    def calendar(self) -> WorkingDayCalendar:
        return WorkingDayCalendar(self.region, self.extra_holidays, self.extra_working_days)

    def check_can_serve(self) -> None:
        """Refuse to expose an unauthenticated bot: no app id is for loopback only."""
        if not self.app_id and not self.is_loopback:
            raise SettingsError(
                "MicrosoftAppId is required unless the bot listens on a loopback address "
                f"(MARAT_HOST is {self.host})."
            )
        if self.app_id and not self.tenants:
            raise SettingsError(
                "MicrosoftAppTenantId (or MARAT_ALLOWED_TENANTS) is required with an app id: "
                "the bot only answers its own tenant."
            )


_ALIASES = {
    name: (
        field.validation_alias.choices[0]
        if isinstance(field.validation_alias, AliasChoices)
        else field.validation_alias
    )
    for name, field in Settings.model_fields.items()
}


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation errors into one readable message per bad key."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            field = str(problem["loc"][0]) if problem["loc"] else "settings"
            key = _ALIASES.get(field, field)
            message = str(problem["msg"]).removeprefix("Value error, ")
            lines.append(f"{key}: {message}")
        raise SettingsError("Invalid configuration:\n  " + "\n  ".join(lines)) from None
