"""The event schema and the checks that send a malformed event to quarantine (chapter 4)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SchemaField:
    """One column of the event schema: its name, SQL type and meaning."""

    name: str
    sql_type: str
    description: str


VARIANTS = ("control", "treatment")
EVENT_TYPES = ("exposure", "page_view", "click", "purchase")

#: The schema of an event, shared by the simulator (:func:`abteach.simulate.simulate_events`)
#: and the store. One row of the log is one event.
EVENT_SCHEMA = (
    SchemaField("event_id", "VARCHAR", "unique id of the event; a re-sent copy keeps it"),
    SchemaField("unit_id", "VARCHAR", "the randomization unit (a user)"),
    SchemaField("experiment", "VARCHAR", "name of the experiment"),
    SchemaField("variant", "VARCHAR", "arm of the unit: 'control' or 'treatment'"),
    SchemaField("event_type", "VARCHAR", "'exposure', 'page_view', 'click' or 'purchase'"),
    SchemaField("revenue", "DOUBLE", "order value (>= 0) of a purchase; NULL for other events"),
    SchemaField("timestamp", "TIMESTAMP", "when the event happened, UTC"),
)
EVENT_COLUMNS = tuple(field.name for field in EVENT_SCHEMA)

#: The event that triggers the treatment — the changed page is reached by a click.
TRIGGER_EVENT = "click"
#: A gap longer than this between two events of a unit starts a new session.
SESSION_GAP_MINUTES = 30

def _sql_list(values) -> str:
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


#: The plausible time range of an event, UTC. From ``EARLIEST_TIMESTAMP`` (included) to
#: ``LATEST_TIMESTAMP`` (excluded). A timestamp outside it (year 1, year 10000, a clock
#: reset to the Unix epoch's negative side) is a logging error, not an event.
EARLIEST_TIMESTAMP = "1970-01-01 00:00:00"
LATEST_TIMESTAMP = "2100-01-01 00:00:00"
#: The text fields that name things (ids and the experiment). Each must be real text, not
#: blank (whitespace only) and not a JSON object or array that a client serialized by mistake.
_NAME_FIELDS = ("event_id", "unit_id", "experiment")


def _name_checks(name: str) -> dict[str, str]:
    """Missing, blank, or a JSON object or array: the checks of one naming field."""
    return {
        f"missing {name}": f"{name} IS NULL",
        f"blank {name}": rf"regexp_full_match({name}, '[\s\pZ]+')",
        f"JSON object or array as {name}": (
            rf"regexp_matches({name}, '^[\s\pZ]*[\[{{]') AND json_valid({name})"
        ),
    }


#: The checks of an ingested event, in order. The first that holds is the reason it is
#: quarantined. They test the parsed fields (empty text counts as missing) and, for
#: presence, the raw ones (``<name>_raw``).
_CHECKS = {
    **{reason: test for name in _NAME_FIELDS for reason, test in _name_checks(name).items()},
    "missing variant": "variant IS NULL",
    "unknown variant": f"variant NOT IN {_sql_list(VARIANTS)}",
    "missing event_type": "event_type IS NULL",
    "unknown event_type": f"event_type NOT IN {_sql_list(EVENT_TYPES)}",
    "missing timestamp": "timestamp_raw IS NULL",
    "unparsable timestamp": "timestamp IS NULL",
    "timestamp outside 1970-2099": (f"timestamp < TIMESTAMP '{EARLIEST_TIMESTAMP}' "
                                    f"OR timestamp >= TIMESTAMP '{LATEST_TIMESTAMP}'"),
    "unparsable revenue": "revenue_raw IS NOT NULL AND revenue IS NULL",
    "purchase without revenue": "event_type = 'purchase' AND revenue IS NULL",
    "revenue on a non-purchase event": "event_type <> 'purchase' AND revenue IS NOT NULL",
    "non-finite revenue": "NOT isfinite(revenue)",
    "negative revenue": "revenue < 0",
}
#: Why an event was quarantined — a JSON line that is not an object, then the checks.
QUARANTINE_REASONS = ("invalid JSON", "not a JSON object", *_CHECKS)
