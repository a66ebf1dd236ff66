"""The SuiteQL engine of the NetSuite emulator: in-memory SQLite tables and an Oracle-to-SQLite translator.

SuiteQL is Oracle-flavoured SQL over NetSuite's analytics tables. The emulator keeps the
tables the order audit reads (``transaction``, ``transactionline``,
``NextTransactionLineLink`` / ``PreviousTransactionLineLink`` and their header-level
views, ``SystemNote``, ``currency``, ``customer``, ``item``, ``location``, ``dual``) in an
in-memory SQLite database built from the sample payloads, and runs an incoming statement
after translating it token by token:

* every string literal is decoded by the tokenizer and re-emitted by it (``'`` doubled),
  so SQLite sees exactly the token boundaries the translator saw: a hostile literal
  stays one literal;
* identifiers are case-insensitive (SQLite's own rule) and schema names are bracketed,
  since some (``transaction``) are SQLite keywords;
* ``BUILTIN.DF(col)``, ``DATE '...'`` / ``TIMESTAMP '...'`` literals, ``SYSDATE``,
  ``MINUS``, ``ROWNUM <= n``, ``FETCH FIRST n ROWS ONLY``, ``OFFSET n ROWS`` and
  ``SELECT TOP n`` are rewritten; ``TO_CHAR``, ``TO_DATE``, ``TO_TIMESTAMP``, ``TRUNC``,
  ``NVL``, ``NVL2``, ``DECODE``, ``TO_NUMBER``, ``CONCAT``, ``MOD``, ``GREATEST`` and
  ``LEAST`` are SQLite functions written here;
* only a single SELECT runs: anything else is refused before SQLite sees it, and an
  authorizer that allows nothing but reads backs that up.

Date-times are stored as UTC instants (``YYYY-MM-DDTHH:MM:SSZ``) and dates as the
instant of their local midnight, so text comparison orders them and ``TO_DATE`` /
``TO_CHAR`` convert at the edges in the account's time zone, as SuiteQL does. A date or
date-time selected without ``TO_CHAR`` comes back as the local date in ``M/D/YYYY``, the
default US date preference (the samples' ``trandate``; that datetimes lose their time
this way is widely reported but unconfirmed). Not emulated: Oracle date arithmetic
(``SYSDATE - 7``), implicit string-to-date conversion (``trandate >= '3/1/2026'``),
``ROWNUM`` outside ``ROWNUM <= n`` (and its filter-before-sort order), Oracle's
empty-string-is-NULL; such statements fail with a 400 or compare as text.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

ACCOUNT_ZONE = ZoneInfo("America/Los_Angeles")
"""The sample account's time zone (the samples' SuiteQL local times are in it)."""

MAX_RESULTS = 100_000
"""SuiteQL returns at most this many rows of one query (without SuiteAnalytics Connect)."""

QUERY_TIME_LIMIT = 10.0
"""Seconds a statement may run before it is stopped (a runaway join must not hang the sandbox)."""

ERROR_PREFIX = "Invalid search query. Detailed unprocessed description follows. "
"""How NetSuite begins the detail of a SuiteQL statement it cannot run."""


class SuiteQLError(Exception):
    """A statement the engine refuses or cannot run; ``str()`` is NetSuite-style detail text."""


# --- instants and Oracle date formats --------------------------------------------------------

_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def instant_text(moment: datetime) -> str:
    """An aware datetime as the stored form: UTC, whole seconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_instant(value: object) -> bool:
    """True for a stored date or date-time value."""
    return isinstance(value, str) and len(value) == 20 and _INSTANT.match(value) is not None


def parse_iso_instant(text: str) -> str | None:
    """An ISO-8601 instant with a zone (``...Z`` or ``+hh:mm``) as the stored form, None if not one."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return instant_text(moment) if moment.tzinfo is not None else None


def local_midnight(day: date, zone: ZoneInfo) -> str:
    """A date as the stored form: the instant its local day starts."""
    return instant_text(datetime(day.year, day.month, day.day, tzinfo=zone))


def local_datetime(text: str, zone: ZoneInfo) -> str | None:
    """A local ``YYYY-MM-DD HH:MM:SS`` (SuiteQL TO_CHAR output) as the stored form."""
    try:
        naive = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return instant_text(naive.replace(tzinfo=zone))


def parse_day(text: str) -> date | None:
    """``YYYY-MM-DD`` (record API) or ``M/D/YYYY`` (SuiteQL) as a date."""
    text = text.strip()
    try:
        if "/" in text:
            month, day, year = (int(part) for part in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        return None


def display_date(stored: str, zone: ZoneInfo) -> str:
    """A stored instant as SuiteQL shows an un-formatted date: local ``M/D/YYYY``."""
    local = _local(stored, zone)
    return f"{local.month}/{local.day}/{local.year}"


def _local(stored: str, zone: ZoneInfo) -> datetime:
    return datetime.strptime(stored, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).astimezone(zone)


# Oracle datetime format elements, longest first; matched case-insensitively.
_FORMAT_ELEMENT = re.compile(
    r'"[^"]*"|YYYY|RRRR|YYY|YY|MONTH|MON|MM|DDD|DD|DAY|DY|D|HH24|HH12|HH|MI|SS|FF[1-9]?'
    r"|A\.M\.|P\.M\.|AM|PM|TZH|TZM|TZR|FM|[-/,.;: ]|.",
    re.IGNORECASE | re.DOTALL,
)
_MONTHS = ("JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST", "SEPTEMBER",
           "OCTOBER", "NOVEMBER", "DECEMBER")
_DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


def _format_elements(fmt: str) -> list[str]:
    elements = _FORMAT_ELEMENT.findall(fmt)
    for element in elements:
        if len(element) == 1 and element.isalnum():
            raise ValueError(f"date format not recognized: {fmt!r}")
    return elements


def _styled(word: str, element: str) -> str:
    """Month/day names follow the element's case: MON -> MAR, Mon -> Mar, mon -> mar."""
    if element.isupper():
        return word
    if element[0].isupper():
        return word.capitalize()
    return word.lower()


def format_datetime(local: datetime, fmt: str) -> str:
    """``TO_CHAR(date, fmt)`` for the common Oracle elements (no FM padding rules)."""
    out: list[str] = []
    for element in _format_elements(fmt):
        key = element.upper()
        if element.startswith('"'):
            out.append(element[1:-1])
        elif key in ("YYYY", "RRRR"):
            out.append(f"{local.year:04d}")
        elif key == "YYY":
            out.append(f"{local.year % 1000:03d}")
        elif key == "YY":
            out.append(f"{local.year % 100:02d}")
        elif key == "MM":
            out.append(f"{local.month:02d}")
        elif key == "MONTH":
            out.append(_styled(_MONTHS[local.month - 1], element))
        elif key == "MON":
            out.append(_styled(_MONTHS[local.month - 1][:3], element))
        elif key == "DDD":
            out.append(f"{local.timetuple().tm_yday:03d}")
        elif key == "DD":
            out.append(f"{local.day:02d}")
        elif key == "DAY":
            out.append(_styled(_DAYS[local.weekday()], element))
        elif key == "DY":
            out.append(_styled(_DAYS[local.weekday()][:3], element))
        elif key == "D":
            out.append(str((local.weekday() + 1) % 7 + 1))  # Sunday = 1 under US territory
        elif key == "HH24":
            out.append(f"{local.hour:02d}")
        elif key in ("HH", "HH12"):
            out.append(f"{(local.hour % 12) or 12:02d}")
        elif key == "MI":
            out.append(f"{local.minute:02d}")
        elif key == "SS":
            out.append(f"{local.second:02d}")
        elif key.startswith("FF"):
            out.append("0" * (int(key[2:]) if len(key) > 2 else 6))
        elif key in ("AM", "PM", "A.M.", "P.M."):
            meridian = "AM" if local.hour < 12 else "PM"
            if "." in key:
                meridian = f"{meridian[0]}.{meridian[1]}."
            out.append(meridian if element.isupper() else meridian.lower())
        elif key == "TZH":
            offset = local.utcoffset() or timedelta(0)
            hours = int(offset.total_seconds() // 3600)
            out.append(f"{'+' if offset >= timedelta(0) else '-'}{abs(hours):02d}")
        elif key == "TZM":
            offset = local.utcoffset() or timedelta(0)
            out.append(f"{int(abs(offset.total_seconds()) % 3600 // 60):02d}")
        elif key == "TZR":
            out.append(str(local.tzinfo))
        elif key == "FM":
            continue
        else:
            out.append(element)
    return "".join(out)


_PARSE_GROUPS = {
    "YYYY": r"(?P<year>\d{4})", "RRRR": r"(?P<year>\d{4})", "YY": r"(?P<year2>\d{2})",
    "MM": r"(?P<month>\d{1,2})", "MON": r"(?P<mon>[A-Za-z]{3})", "MONTH": r"(?P<monthname>[A-Za-z]+)",
    "DD": r"(?P<day>\d{1,2})", "HH24": r"(?P<hour>\d{1,2})", "HH": r"(?P<hour12>\d{1,2})",
    "HH12": r"(?P<hour12>\d{1,2})", "MI": r"(?P<minute>\d{1,2})", "SS": r"(?P<second>\d{1,2})",
    "AM": r"(?P<meridian>[AaPp]\.?[Mm]\.?)", "PM": r"(?P<meridian>[AaPp]\.?[Mm]\.?)",
    "A.M.": r"(?P<meridian>[AaPp]\.?[Mm]\.?)", "P.M.": r"(?P<meridian>[AaPp]\.?[Mm]\.?)",
    "TZH": r"(?P<tzh>[+-]?\d{1,2})", "TZM": r"(?P<tzm>\d{2})", "TZR": r"(?P<tzr>Z|UTC|GMT|[A-Za-z_]+/[A-Za-z_/]+)",
}


def parse_datetime(text: str, fmt: str | None, zone: ZoneInfo) -> str:
    """``TO_DATE(text, fmt)`` as the stored form; a value without a zone is local to the account."""
    text = text.strip()
    if fmt is None:
        # The account's default date preference (M/D/YYYY) or ISO, as SuiteQL accepts them.
        fmt = "MM/DD/YYYY HH24:MI:SS" if "/" in text else "YYYY-MM-DD HH24:MI:SS"
        if len(text) <= 10:
            fmt = fmt.split(" ")[0]
    pattern: list[str] = []
    used: set[str] = set()
    for element in _format_elements(fmt):
        key = element.upper()
        if element.startswith('"'):
            pattern.append(re.escape(element[1:-1]))
        elif key in _PARSE_GROUPS:
            group = _PARSE_GROUPS[key]
            name = group[4:group.index(">")]
            if name in used:
                raise ValueError(f"format element repeated: {element}")
            used.add(name)
            pattern.append(group)
        elif key.startswith("FF"):
            pattern.append(r"(?P<fraction>\d+)")
        elif key == "FM":
            continue
        elif element == " ":
            pattern.append(r"\s*")
        elif len(element) == 1:
            pattern.append(r"[^A-Za-z0-9]")  # Oracle lets any punctuation stand for any other
        else:
            raise ValueError(f"format element not supported by the sandbox: {element}")
    match = re.fullmatch("".join(pattern), text, re.IGNORECASE)
    if match is None:
        raise ValueError(f"literal does not match format string: {text!r} / {fmt!r}")
    parts = match.groupdict()
    year = int(parts["year"]) if parts.get("year") else 2000 + int(parts.get("year2") or 0)
    if parts.get("mon") or parts.get("monthname"):
        name = (parts.get("mon") or parts.get("monthname") or "").upper()
        months = [m for m in _MONTHS if m.startswith(name[:3])]
        if not months:
            raise ValueError(f"not a month: {name}")
        month = _MONTHS.index(months[0]) + 1
    else:
        month = int(parts.get("month") or 1)
    hour = int(parts.get("hour") or 0)
    if parts.get("hour12"):
        hour = int(parts["hour12"]) % 12
        if (parts.get("meridian") or "").upper().startswith("P"):
            hour += 12
    naive = datetime(year, month, int(parts.get("day") or 1), hour,
                     int(parts.get("minute") or 0), int(parts.get("second") or 0))
    if parts.get("tzh") is not None:
        hours = int(parts["tzh"])
        minutes = int(parts.get("tzm") or 0)
        offset = timedelta(hours=abs(hours), minutes=minutes)
        sign = -1 if parts["tzh"].startswith("-") else 1
        return instant_text(naive.replace(tzinfo=UTC) - sign * offset)
    if parts.get("tzr"):
        region = parts["tzr"].upper()
        tz = UTC if region in ("Z", "UTC", "GMT") else ZoneInfo(parts["tzr"])
        return instant_text(naive.replace(tzinfo=tz))
    return instant_text(naive.replace(tzinfo=zone))


# --- the tables ---------------------------------------------------------------------------------

SCHEMA = """
CREATE TABLE "transaction" (
    id INTEGER PRIMARY KEY, tranid TEXT, type TEXT, recordtype TEXT, status TEXT,
    trandate TEXT, createddate TEXT, lastmodifieddate TEXT, otherrefnum TEXT, externalid TEXT,
    entity INTEGER, currency INTEGER, exchangerate REAL, foreigntotal REAL, memo TEXT,
    shipdate TEXT, shipmethod INTEGER, trackingnumberlist TEXT, voided TEXT
);
CREATE INDEX transaction_otherrefnum ON "transaction"(otherrefnum);
CREATE INDEX transaction_tranid ON "transaction"(tranid);
CREATE INDEX transaction_externalid ON "transaction"(externalid);
CREATE INDEX transaction_lastmodified ON "transaction"(lastmodifieddate);
CREATE INDEX transaction_created ON "transaction"(createddate);
CREATE INDEX transaction_trandate ON "transaction"(trandate);
CREATE TABLE transactionline (
    "transaction" INTEGER, id INTEGER, linesequencenumber INTEGER, uniquekey INTEGER PRIMARY KEY,
    mainline TEXT, taxline TEXT, item INTEGER, itemtype TEXT, quantity REAL, quantitybilled REAL,
    quantityshiprecv REAL, rate REAL, foreignamount REAL, netamount REAL, createdfrom INTEGER,
    isclosed TEXT, location INTEGER, memo TEXT
);
CREATE INDEX transactionline_transaction ON transactionline("transaction", id);
CREATE TABLE nexttransactionlinelink (
    previousdoc INTEGER, previousline INTEGER, previoustype TEXT, nextdoc INTEGER,
    nextline INTEGER, nexttype TEXT, linktype TEXT, linkdate TEXT, lastmodifieddate TEXT,
    foreignamount REAL
);
CREATE INDEX link_previous ON nexttransactionlinelink(previousdoc);
CREATE INDEX link_next ON nexttransactionlinelink(nextdoc);
CREATE VIEW previoustransactionlinelink AS SELECT * FROM nexttransactionlinelink;
CREATE VIEW nexttransactionlink AS
    SELECT previousdoc, previoustype, nextdoc, nexttype, linktype, MIN(linkdate) AS linkdate,
           MAX(lastmodifieddate) AS lastmodifieddate, SUM(foreignamount) AS foreignamount
    FROM nexttransactionlinelink GROUP BY previousdoc, previoustype, nextdoc, nexttype, linktype;
CREATE VIEW previoustransactionlink AS SELECT * FROM nexttransactionlink;
CREATE TABLE systemnote (
    id INTEGER PRIMARY KEY, recordid INTEGER, recordtypeid INTEGER, date TEXT, field TEXT,
    oldvalue TEXT, newvalue TEXT, context TEXT, name INTEGER, type INTEGER, role INTEGER
);
CREATE INDEX systemnote_record ON systemnote(recordid);
CREATE TABLE currency (
    id INTEGER PRIMARY KEY, name TEXT, symbol TEXT, isbasecurrency TEXT, exchangerate REAL,
    isinactive TEXT
);
CREATE TABLE customer (
    id INTEGER PRIMARY KEY, entityid TEXT, companyname TEXT, altname TEXT, isinactive TEXT
);
CREATE VIEW entity AS SELECT id, entityid, altname, 'CustJob' AS type, isinactive FROM customer;
CREATE TABLE item (
    id INTEGER PRIMARY KEY, itemid TEXT, displayname TEXT, itemtype TEXT, isinactive TEXT
);
CREATE TABLE location (id INTEGER PRIMARY KEY, name TEXT, isinactive TEXT);
CREATE TABLE dual (dummy TEXT);
INSERT INTO dual VALUES ('X');
"""

_TABLES = ("transaction", "transactionline", "nexttransactionlinelink", "previoustransactionlinelink",
           "nexttransactionlink", "previoustransactionlink", "systemnote", "currency", "customer",
           "entity", "item", "location", "dual")


def _schema_columns() -> frozenset[str]:
    scratch = sqlite3.connect(":memory:")
    try:
        scratch.executescript(SCHEMA)
        return frozenset(row[1].lower() for table in _TABLES
                         for row in scratch.execute(f'PRAGMA table_info("{table}")'))
    finally:
        scratch.close()


SCHEMA_NAMES = frozenset(_TABLES) | _schema_columns()
"""Every table and column name; bracketed in translated SQL (``transaction`` is a SQLite keyword)."""

# Output columns whose numbers are currency amounts, rendered with two decimals as the samples
# show them ("25.00"); other numbers come back in their shortest form ("-1", "0.5").
MONEY_COLUMNS = frozenset({"foreigntotal", "foreignamount", "netamount", "amount", "total", "rate",
                           "subtotal", "amountpaid", "amountremaining"})

TYPE_NAMES = {"SalesOrd": "Sales Order", "ItemShip": "Item Fulfillment", "CustInvc": "Invoice",
              "CashSale": "Cash Sale"}
# Status letters per transaction type (platform-apis.md §3, "Sales order statuses").
STATUS_NAMES: dict[str, dict[str, str]] = {
    "SalesOrd": {"A": "Pending Approval", "B": "Pending Fulfillment", "C": "Cancelled",
                 "D": "Partially Fulfilled", "E": "Pending Billing/Partially Fulfilled",
                 "F": "Pending Billing", "G": "Billed", "H": "Closed"},
    "ItemShip": {"A": "Picked", "B": "Packed", "C": "Shipped"},
    "CustInvc": {"A": "Open", "B": "Paid In Full"},
    "CashSale": {"A": "Unapproved Payment", "B": "Not Deposited", "C": "Deposited"},
}


# --- the translator -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Token:
    """One lexical token: kind is str (a decoded literal), qid, word, num or op."""

    kind: str
    text: str


_LEXER = re.compile(
    r"""(?P<space>\s+)
      | (?P<comment>--[^\n]*|/\*.*?\*/)
      | (?P<str>'(?:[^']|'')*')
      | (?P<qid>"(?:[^"]|"")+")
      | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>\|\||<=|>=|<>|!=|[=<>+\-*/(),.;])""",
    re.VERBOSE | re.DOTALL,
)

# Statements and clauses that change data or the session: refused wherever they appear.
_FORBIDDEN = frozenset({
    "INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "DROP", "CREATE", "ALTER", "TRUNCATE",
    "ATTACH", "DETACH", "PRAGMA", "VACUUM", "REINDEX", "ANALYZE", "GRANT", "REVOKE", "COMMIT",
    "ROLLBACK", "SAVEPOINT", "RELEASE", "BEGIN", "EXEC", "EXECUTE", "CALL", "INTO", "RETURNING",
    "DECLARE", "LOCK",
})


def tokenize(q: str) -> list[Token]:
    """The tokens of a statement (whitespace and comments dropped)."""
    tokens: list[Token] = []
    position = 0
    while position < len(q):
        match = _LEXER.match(q, position)
        if match is None:
            snippet = q[position:position + 10]
            if q[position] == "'":
                raise SuiteQLError("Search error occurred: unterminated string literal.")
            if q.startswith("/*", position):
                raise SuiteQLError("Search error occurred: unterminated comment.")
            raise SuiteQLError(f"Search error occurred: unexpected character at {snippet!r}.")
        kind = match.lastgroup or ""
        text = match.group(0)
        position = match.end()
        if kind in ("space", "comment"):
            continue
        if kind == "str":
            tokens.append(Token("str", text[1:-1].replace("''", "'")))
        elif kind == "qid":
            tokens.append(Token("qid", text[1:-1].replace('""', '"')))
        else:
            tokens.append(Token(kind, text))
    return tokens


def _is_word(token: Token | None, *words: str) -> bool:
    return token is not None and token.kind == "word" and token.text.upper() in words


def _is_op(token: Token | None, *ops: str) -> bool:
    return token is not None and token.kind == "op" and token.text in ops


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass
class _Frame:
    """One parenthesis level while translating: is it a (sub)query, and its row limit if any."""

    is_query: bool
    limit: int | None = None
    offset: int | None = None

    def clause(self) -> str:
        if self.limit is None and self.offset is None:
            return ""
        limit = -1 if self.limit is None else self.limit
        return f" LIMIT {limit}" + (f" OFFSET {self.offset}" if self.offset else "")


def translate(q: str) -> str:
    """A SuiteQL SELECT as SQLite SQL; raises SuiteQLError for anything else."""
    tokens = tokenize(q)
    while tokens and _is_op(tokens[-1], ";"):
        tokens.pop()
    if not tokens:
        raise SuiteQLError("Search error occurred: the query is empty.")
    if any(_is_op(token, ";") for token in tokens):
        raise SuiteQLError("Search error occurred: only one statement can be run at a time.")
    first = next((t for t in tokens if not _is_op(t, "(")), None)
    if not _is_word(first, "SELECT", "WITH"):
        raise SuiteQLError("Search error occurred: only SELECT statements are supported.")
    for index, token in enumerate(tokens):
        previous = tokens[index - 1] if index else None
        if token.kind != "word" or _is_op(previous, "."):
            continue
        word = token.text.upper()
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if word in _FORBIDDEN or (word == "REPLACE" and not _is_op(following, "(")):
            raise SuiteQLError(f"Search error occurred: only SELECT statements are supported ({token.text}).")
        if word == "LIMIT":
            raise SuiteQLError("Search error occurred: LIMIT is not SuiteQL; page with the limit and "
                               "offset query parameters, or use ROWNUM / FETCH FIRST n ROWS ONLY.")
    return _Translator(_alias_qualified_columns(tokens)).run()


def _alias_qualified_columns(tokens: list[Token]) -> list[Token]:
    """``t.id`` in a select list gets ``AS id``: Oracle names the column ``id`` (so a UNION can be
    ordered ``BY id``), SQLite only matches ORDER BY terms of a compound select against aliases."""
    result: list[Token] = []
    depth = 0
    select_depths: list[int] = []  # depths whose select list is being read
    item: list[Token] = []

    def flush() -> None:
        plain = len(item) >= 3 and all(
            (t.kind in ("word", "qid")) if n % 2 == 0 else _is_op(t, ".") for n, t in enumerate(item))
        result.extend(item)
        if plain and len(item) % 2 == 1:
            result.extend([Token("word", "AS"), Token("qid", item[-1].text)])
        item.clear()

    for token in tokens:
        if select_depths and depth >= select_depths[-1]:
            at_list_level = depth == select_depths[-1]
            if at_list_level and (_is_op(token, ",", ")") or _is_word(token, "FROM")):
                flush()
                if not _is_op(token, ","):
                    select_depths.pop()
                if _is_op(token, ")"):
                    depth -= 1
                result.append(token)
                continue
            if at_list_level and not item and _is_word(token, "DISTINCT", "ALL", "UNIQUE"):
                result.append(token)
                continue
            if _is_op(token, "("):
                depth += 1
            elif _is_op(token, ")"):
                depth -= 1
            item.append(token)
            continue
        if _is_op(token, "("):
            depth += 1
        elif _is_op(token, ")"):
            depth -= 1
        result.append(token)
        if _is_word(token, "SELECT"):
            select_depths.append(depth)
    if select_depths:
        flush()
    return result


class _Translator:
    """The token-by-token rewrite of :func:`translate` (validation already done)."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.out: list[str] = []
        self.frames = [_Frame(is_query=True)]

    def at(self, index: int) -> Token | None:
        return self.tokens[index] if 0 <= index < len(self.tokens) else None

    def query_frame(self) -> _Frame:
        return next(frame for frame in reversed(self.frames) if frame.is_query)

    def set_limit(self, limit: int) -> None:
        frame = self.query_frame()
        frame.limit = limit if frame.limit is None else min(frame.limit, limit)

    def number(self, index: int, what: str) -> int:
        token = self.at(index)
        if token is None or token.kind != "num" or not token.text.isdigit():
            raise SuiteQLError(f"Search error occurred: {what} needs a whole number.")
        return int(token.text)

    def run(self) -> str:
        i = 0
        while i < len(self.tokens):
            i = self.step(i)
        if len(self.frames) != 1:
            raise SuiteQLError("Search error occurred: unbalanced parentheses.")
        return " ".join(self.out) + self.frames[0].clause()

    def step(self, i: int) -> int:  # noqa: C901 - one branch per rewrite reads best flat
        token = self.tokens[i]
        previous, following = self.at(i - 1), self.at(i + 1)
        word = token.text.upper() if token.kind == "word" else ""
        if token.kind == "str":
            self.out.append(_quote(token.text))
        elif token.kind == "qid":
            self.out.append("[" + token.text.replace("]", "") + "]")
        elif _is_op(token, "("):
            self.frames.append(_Frame(is_query=_is_word(following, "SELECT", "WITH")))
            self.out.append("(")
        elif _is_op(token, ")"):
            if len(self.frames) == 1:
                raise SuiteQLError("Search error occurred: unbalanced parentheses.")
            frame = self.frames.pop()
            if frame.is_query and frame.clause():
                self.out.append(frame.clause().strip())
            self.out.append(")")
        elif word == "BUILTIN" and _is_op(following, ".") and not _is_op(previous, "."):
            return self.builtin(i)
        elif word in ("DATE", "TIMESTAMP") and not _is_op(previous, ".") and \
                following is not None and following.kind == "str":
            fmt = "YYYY-MM-DD" if word == "DATE" else "YYYY-MM-DD HH24:MI:SS"
            literal = following.text.split(".")[0] if word == "TIMESTAMP" else following.text
            self.out.append(f"ns_to_date({_quote(literal)}, {_quote(fmt)})")
            return i + 2
        elif word in ("SYSDATE", "SYSTIMESTAMP", "CURRENT_DATE", "CURRENT_TIMESTAMP") and \
                not _is_op(previous, ".") and not _is_op(following, "("):
            self.out.append("ns_sysdate()")
        elif word == "MINUS" and not _is_op(previous, "."):
            self.out.append("EXCEPT")
        elif word == "ROWNUM" and not _is_op(previous, "."):
            return self.rownum(i)
        elif token.kind == "num" and _is_op(following, ">=", ">", "=") and _is_word(self.at(i + 2), "ROWNUM"):
            bound = self.number(i, "ROWNUM")
            self.set_limit({">=": bound, ">": bound - 1, "=": 1 if bound == 1 else 0}[following.text])
            self.out.append("1 = 1")
            return i + 3
        elif word == "OFFSET" and _is_word(self.at(i + 2), "ROW", "ROWS"):
            self.query_frame().offset = self.number(i + 1, "OFFSET")
            return i + 3
        elif word == "FETCH" and _is_word(following, "FIRST", "NEXT"):
            j = i + 2
            count = 1
            if self.at(j) is not None and self.at(j).kind == "num":  # type: ignore[union-attr]
                count = self.number(j, "FETCH FIRST")
                j += 1
            if not (_is_word(self.at(j), "ROW", "ROWS") and _is_word(self.at(j + 1), "ONLY")):
                raise SuiteQLError("Search error occurred: expected FETCH FIRST n ROWS ONLY.")
            self.set_limit(count)
            return j + 2
        elif word == "TOP" and (_is_word(previous, "SELECT") or
                                (_is_word(previous, "DISTINCT") and _is_word(self.at(i - 2), "SELECT"))):
            self.set_limit(self.number(i + 1, "TOP"))
            return i + 2
        elif token.kind == "word" and not _is_op(following, "(") and (
                word.lower() in SCHEMA_NAMES or _is_op(previous, ".") or _is_op(following, ".")):
            self.out.append(f"[{token.text}]")
        else:
            self.out.append(token.text)
        return i + 1

    def rownum(self, i: int) -> int:
        operator = self.at(i + 1)
        if not _is_op(operator, "<=", "<", "="):
            raise SuiteQLError("Search error occurred: the sandbox supports ROWNUM only as "
                               "ROWNUM <= n, ROWNUM < n or ROWNUM = 1.")
        bound = self.number(i + 2, "ROWNUM")
        assert operator is not None
        self.set_limit({"<=": bound, "<": max(bound - 1, 0), "=": 1 if bound == 1 else 0}[operator.text])
        self.out.append("1 = 1")
        return i + 3

    def builtin(self, i: int) -> int:
        name = self.at(i + 2)
        if not (_is_word(name, "DF") and _is_op(self.at(i + 3), "(")):
            shown = name.text if name is not None else ""
            raise SuiteQLError(f"Search error occurred: BUILTIN.{shown} is not supported by the sandbox.")
        # Find the matching parenthesis of BUILTIN.DF( ... ).
        depth, j = 0, i + 3
        while j < len(self.tokens):
            if _is_op(self.tokens[j], "("):
                depth += 1
            elif _is_op(self.tokens[j], ")"):
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if j >= len(self.tokens):
            raise SuiteQLError("Search error occurred: unbalanced parentheses.")
        argument = self.tokens[i + 4:j]
        column = None
        if len(argument) == 1 and argument[0].kind in ("word", "qid"):
            column, qualifier = argument[0].text, []
        elif len(argument) == 3 and argument[0].kind in ("word", "qid") and _is_op(argument[1], ".") \
                and argument[2].kind in ("word", "qid"):
            column, qualifier = argument[2].text, argument[:2]
        if column is not None and column.lower() == "status":
            # A status letter only means something with its transaction type beside it.
            replacement = [Token("word", "ns_df_status"), Token("op", "("), *qualifier,
                           Token("word", "type"), Token("op", ","), *argument, Token("op", ")")]
        else:
            replacement = [Token("word", "ns_df"), Token("op", "("),
                           Token("str", (column or "").lower()), Token("op", ","), *argument,
                           Token("op", ")")]
        self.tokens[i:j + 1] = replacement
        return i


# --- the database -----------------------------------------------------------------------------

_SQLITE_READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                        getattr(sqlite3, "SQLITE_RECURSIVE", 33)}


def _authorizer(action: int, arg1: str | None, arg2: str | None, db: str | None, source: str | None) -> int:
    """Reads only, and never of SQLite's own catalogue: the second wall behind :func:`translate`."""
    if action not in _SQLITE_READ_ACTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_READ and arg1 is not None and arg1.lower().startswith("sqlite_"):
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


@dataclass(frozen=True)
class QueryResult:
    """The rows of one statement, rendered as SuiteQL sends them (strings, nulls left out)."""

    rows: list[dict[str, str]]


class SuiteQLDatabase:
    """The in-memory tables and the statement runner; one per emulator app."""

    def __init__(self, zone: ZoneInfo = ACCOUNT_ZONE) -> None:
        self.zone = zone
        # One connection, used under self._lock from whichever thread runs the statement.
        self.connection = sqlite3.connect(":memory:", check_same_thread=False)
        self.connection.executescript(SCHEMA)
        self.status_names: dict[tuple[str, str], str] = {}
        self.display: dict[str, dict[int, str]] = {"entity": {}, "currency": {}, "item": {},
                                                   "location": {}, "shipmethod": {}}
        self._register_functions()
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, QueryResult] = OrderedDict()
        self._sealed = False

    # Functions ---------------------------------------------------------------------------------
    def _register_functions(self) -> None:
        zone = self.zone

        def to_char(value: Any, fmt: str | None = None) -> str | None:
            if value is None:
                return None
            if is_instant(value):
                local = _local(value, zone)
                return format_datetime(local, fmt) if fmt else display_date(value, zone)
            if isinstance(value, (int, float)) and fmt and "." in fmt:
                decimals = len(fmt.split(".")[-1])
                return f"{value:.{decimals}f}"
            return render_number(value) if isinstance(value, (int, float)) else str(value)

        def to_date(value: Any, fmt: str | None = None) -> str | None:
            if value is None:
                return None
            if is_instant(value):
                return value
            try:
                return parse_datetime(str(value), fmt, zone)
            except (ValueError, KeyError) as exc:
                raise ValueError(f"TO_DATE: {exc}") from exc

        def trunc(value: Any, fmt: Any = None) -> Any:
            if value is None:
                return None
            if is_instant(value):
                local = _local(value, zone)
                unit = (fmt or "DD").upper()
                if unit in ("MM", "MON", "MONTH"):
                    local = local.replace(day=1)
                elif unit in ("YYYY", "YEAR", "YY", "Y"):
                    local = local.replace(month=1, day=1)
                return local_midnight(local.date(), zone)
            number = float(value)
            digits = int(fmt or 0)
            factor = 10 ** digits
            truncated = int(number * factor) / factor
            return int(truncated) if digits <= 0 else truncated

        def to_number(value: Any, fmt: Any = None) -> Any:
            if value is None or isinstance(value, (int, float)):
                return value
            try:
                number = float(str(value).replace(",", ""))
            except ValueError as exc:
                raise ValueError(f"TO_NUMBER: invalid number {value!r}") from exc
            return int(number) if number.is_integer() and "." not in str(value) else number

        def decode(*args: Any) -> Any:
            if len(args) < 3:
                raise ValueError("DECODE needs at least three arguments")
            expression, rest = args[0], list(args[1:])
            while len(rest) >= 2:
                search, result = rest.pop(0), rest.pop(0)
                if search == expression or (search is None and expression is None):
                    return result
            return rest[0] if rest else None

        def concat(*args: Any) -> str:
            return "".join("" if a is None else (render_number(a) if isinstance(a, (int, float)) else str(a))
                           for a in args)

        def extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
            def chosen(*args: Any) -> Any:
                return None if any(a is None for a in args) else pick(args)
            return chosen

        def df(column: str, value: Any) -> Any:
            if value is None:
                return None
            if column == "type":
                return TYPE_NAMES.get(str(value), value)
            names = self.display.get(column)
            if names is not None:
                try:
                    return names.get(int(value), value)
                except (TypeError, ValueError):
                    return value
            return value

        def df_status(kind: Any, letter: Any) -> Any:
            if letter is None:
                return None
            name = self.status_names.get((str(kind), str(letter))) or \
                STATUS_NAMES.get(str(kind), {}).get(str(letter))
            if name is None:
                return letter
            return f"{TYPE_NAMES.get(str(kind), kind)} : {name}"

        functions: list[tuple[str, int, Callable[..., Any], bool]] = [
            ("to_char", 1, to_char, True), ("to_char", 2, to_char, True),
            ("to_date", 1, to_date, True), ("to_date", 2, to_date, True),
            ("to_timestamp", 1, to_date, True), ("to_timestamp", 2, to_date, True),
            ("to_timestamp_tz", 1, to_date, True), ("to_timestamp_tz", 2, to_date, True),
            ("ns_to_date", 2, to_date, True),
            ("ns_sysdate", 0, lambda: instant_text(datetime.now(UTC)), False),
            ("trunc", 1, trunc, True), ("trunc", 2, trunc, True),
            ("to_number", 1, to_number, True), ("to_number", 2, to_number, True),
            ("nvl", 2, lambda a, b: b if a is None else a, True),
            ("nvl2", 3, lambda a, b, c: c if a is None else b, True),
            ("decode", -1, decode, True), ("concat", -1, concat, True),
            ("mod", 2, lambda a, b: None if a is None or b is None else (a if b == 0 else a % b), True),
            ("greatest", -1, extreme(max), True), ("least", -1, extreme(min), True),
            ("ns_df", 2, df, True), ("ns_df_status", 2, df_status, True),
        ]
        for name, arity, function, deterministic in functions:
            self.connection.create_function(name, arity, function, deterministic=deterministic)
        self.connection.execute("PRAGMA case_sensitive_like = ON")  # Oracle LIKE is case-sensitive

    # Loading -----------------------------------------------------------------------------------
    def insert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Add rows to a table (before :meth:`seal`)."""
        if self._sealed:
            raise RuntimeError("the SuiteQL tables are read-only once sealed")
        if not rows:
            return
        columns = sorted({column for row in rows for column in row})
        sql = (f'INSERT OR REPLACE INTO "{table}" ({", ".join(f"[{c}]" for c in columns)}) '
               f'VALUES ({", ".join("?" for _ in columns)})')
        self.connection.executemany(sql, [tuple(row.get(c) for c in columns) for row in rows])

    def seal(self) -> None:
        """Freeze the tables: from now on only reads are authorised."""
        self.connection.commit()
        self.connection.execute("PRAGMA query_only = ON")
        self.connection.set_authorizer(_authorizer)
        # No string or blob a query builds (randomblob, zeroblob, repeated ||) may pass 10 MB.
        self.connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 10_000_000)
        self._sealed = True

    # Running -----------------------------------------------------------------------------------
    def execute(self, q: str) -> QueryResult:
        """Run a SuiteQL statement; raises SuiteQLError with NetSuite-style detail."""
        with self._lock:
            cached = self._cache.get(q)
            if cached is not None:
                self._cache.move_to_end(q)
                return cached
        sql = translate(q)
        deadline = time.monotonic() + QUERY_TIME_LIMIT
        with self._lock:
            self.connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 20_000)
            try:
                cursor = self.connection.execute(sql)
                names = [_column_name(d[0], n) for n, d in enumerate(cursor.description or (), 1)]
                raw = cursor.fetchmany(MAX_RESULTS)
            except (sqlite3.Error, ValueError, OverflowError) as exc:
                raise SuiteQLError(_explain(exc)) from None
            finally:
                self.connection.set_progress_handler(None, 0)
            rows = [self._render(names, values) for values in raw]
            result = QueryResult(rows)
            self._cache[q] = result
            if len(self._cache) > 64:
                self._cache.popitem(last=False)
        return result

    def _render(self, names: list[str], values: Sequence[Any]) -> dict[str, str]:
        row: dict[str, str] = {}
        for name, value in zip(names, values, strict=True):
            if value is None:
                continue  # SuiteQL leaves null columns out of the item
            if is_instant(value):
                row[name] = display_date(value, self.zone)
            elif isinstance(value, float) and name in MONEY_COLUMNS:
                row[name] = f"{value:.2f}"
            elif isinstance(value, (int, float)):
                row[name] = render_number(value)
            elif isinstance(value, bytes):
                row[name] = value.decode("utf-8", "replace")
            else:
                row[name] = str(value)
        return row


def render_number(value: int | float) -> str:
    """A number as SuiteQL's JSON string: integers without a decimal point, others shortest."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_PLAIN_NAME = re.compile(r"^\[?([A-Za-z_][A-Za-z0-9_]*)\]?$")


def _column_name(described: str, position: int) -> str:
    """Lower-case column key; an unnamed expression becomes ``exprN`` as in SuiteQL."""
    match = _PLAIN_NAME.match(described.strip())
    return match.group(1).lower() if match else f"expr{position}"


def _explain(exc: Exception) -> str:
    message = str(exc)
    if message.startswith("no such table: "):
        return f"Invalid search type: {message.removeprefix('no such table: ').strip('[]')}."
    if message.startswith("no such column: "):
        name = message.removeprefix("no such column: ").replace("[", "").replace("]", "")
        return f"Search error occurred: Unknown identifier '{name}'."
    if message.startswith("no such function: "):
        return f"Search error occurred: Unknown function '{message.removeprefix('no such function: ')}'."
    prohibited = re.match(r"access to (\w+)\.", message)
    if prohibited:
        return f"Invalid search type: {prohibited.group(1)}."
    if "not authorized" in message or "prohibited" in message:
        return "Search error occurred: only SELECT statements are supported."
    if "interrupted" in message:
        return "Search error occurred: the query ran too long and was stopped."
    return f"Search error occurred: Invalid or unsupported search ({message})."


# --- building the tables from the sample payloads ------------------------------------------------

RECORD_KINDS = {"salesorder": "salesOrder", "itemfulfillment": "itemFulfillment",
                "invoice": "invoice", "cashsale": "cashSale"}
"""Record API type names (lower case -> canonical) the emulator serves."""
SUITEQL_TYPE = {"salesOrder": "SalesOrd", "itemFulfillment": "ItemShip", "invoice": "CustInvc",
                "cashSale": "CashSale"}
# Which sales-order line a child's line consumes: fulfilments ship (ShipRcpt), invoices and cash
# sales bill (OrdBill) (NextTransactionLineLink.linktype, platform-apis.md §3).
LINK_TYPE = {"ItemShip": "ShipRcpt", "CustInvc": "OrdBill", "CashSale": "OrdBill"}
# Status display name -> letter, for records whose status is only given by name.
_LETTER_BY_NAME = {kind: {name.lower(): letter for letter, name in names.items()}
                   for kind, names in STATUS_NAMES.items()}
_KNOWN_SYMBOLS = {"us dollar": "USD", "euro": "EUR", "british pound": "GBP", "canadian dollar": "CAD",
                  "australian dollar": "AUD"}


def _ref_id(value: Any) -> int | None:
    """The internal id of a reference field ``{"id": "3101", "refName": ...}`` (or a bare id)."""
    raw = value.get("id") if isinstance(value, dict) else value
    try:
        return int(str(raw))
    except (TypeError, ValueError):
        return None


def _ref_name(value: Any) -> str | None:
    return value.get("refName") if isinstance(value, dict) else None


def _status_letter(kind: str, record: dict[str, Any]) -> str | None:
    """The SuiteQL status letter of a record (its orderStatus / shipStatus id, or its status name)."""
    suiteql_type = SUITEQL_TYPE[kind]
    for field_name in ("orderStatus", "shipStatus") if kind in ("salesOrder", "itemFulfillment") else ():
        value = record.get(field_name)
        letter = value.get("id") if isinstance(value, dict) else value
        if isinstance(letter, str) and len(letter) == 1:
            return letter.upper()
    status = record.get("status")
    names = [status.get("refName"), status.get("id")] if isinstance(status, dict) else [status]
    for name in names:
        if isinstance(name, str):
            if len(name) == 1:
                return name.upper()
            letter = _LETTER_BY_NAME.get(suiteql_type, {}).get(name.lower())
            if letter:
                return letter
    return None


def _status_name(record: dict[str, Any]) -> str | None:
    for field_name in ("orderStatus", "shipStatus", "status"):
        name = _ref_name(record.get(field_name))
        if name:
            return name
    return None


def _number(value: Any) -> float | None:
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def _sublist(record: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = record.get(name)
    items = value.get("items") if isinstance(value, dict) else None
    return [item for item in items or [] if isinstance(item, dict)]


class TableBuilder:
    """Collects the rows of every table from record API payloads and SuiteQL response rows."""

    def __init__(self, zone: ZoneInfo = ACCOUNT_ZONE) -> None:
        self.zone = zone
        self.records: dict[int, tuple[str, dict[str, Any]]] = {}
        self.transaction_rows: dict[int, dict[str, Any]] = {}
        self.note_rows: dict[int, dict[str, Any]] = {}
        # The tables, filled by build().
        self.currencies: dict[int, dict[str, Any]] = {}
        self.customers: dict[int, dict[str, Any]] = {}
        self.items: dict[int, dict[str, Any]] = {}
        self.locations: dict[int, dict[str, Any]] = {}
        self.transactions: dict[int, dict[str, Any]] = {}
        self.lines: list[dict[str, Any]] = []
        self.parent_of: dict[int, int] = {}
        self.status_names: dict[tuple[str, str], str] = {}
        self.ship_methods: dict[int, str] = {}
        self._unique_key = 0

    def add_record(self, kind: str, record: dict[str, Any]) -> None:
        """A record API GET body (salesOrder, itemFulfillment, invoice or cashSale)."""
        internal_id = _ref_id(record)
        if internal_id is not None:
            self.records[internal_id] = (kind, record)

    def add_suiteql(self, response: dict[str, Any]) -> None:
        """A SuiteQL response: transaction rows and system-note rows are told apart by their columns."""
        for row in response.get("items") or []:
            if not isinstance(row, dict) or _ref_id(row) is None:
                continue
            if "recordid" in row and "field" in row:
                self.note_rows[int(row["id"])] = row
            elif "type" in row:
                self.transaction_rows[int(row["id"])] = row

    def build(self) -> SuiteQLDatabase:
        """The sealed database."""
        for internal_id, (kind, record) in self.records.items():
            self._add_transaction(internal_id, kind, record)
        for internal_id, row in self.transaction_rows.items():
            self._merge_row(internal_id, row)
        database = SuiteQLDatabase(self.zone)
        for currency in self.currencies.values():
            currency["symbol"] = currency.get("symbol") or (currency.get("name") or "")[:3].upper() or None
        database.status_names = self.status_names
        database.display = {
            "currency": {i: c.get("name") or c.get("symbol") or str(i) for i, c in self.currencies.items()},
            "entity": {i: c.get("entityid") or str(i) for i, c in self.customers.items()},
            "item": {i: c.get("itemid") or str(i) for i, c in self.items.items()},
            "location": {i: c.get("name") or str(i) for i, c in self.locations.items()},
            "shipmethod": self.ship_methods,
        }
        database.insert("currency", list(self.currencies.values()))
        database.insert("customer", list(self.customers.values()))
        database.insert("item", list(self.items.values()))
        database.insert("location", list(self.locations.values()))
        database.insert("transaction", list(self.transactions.values()))
        database.insert("transactionline", self.lines)
        database.insert("nexttransactionlinelink", self._links())
        database.insert("systemnote", self._notes())
        database.seal()
        return database

    # Conversions -------------------------------------------------------------------------------
    def _instant(self, value: Any) -> str | None:
        return parse_iso_instant(value) if isinstance(value, str) else None

    def _day(self, value: Any) -> str | None:
        day = parse_day(value) if isinstance(value, str) else None
        return local_midnight(day, self.zone) if day else None

    def _local(self, value: Any) -> str | None:
        return local_datetime(value, self.zone) if isinstance(value, str) and value else None

    def _next_key(self) -> int:
        self._unique_key += 1
        return self._unique_key

    @staticmethod
    def _remember(table: dict[int, dict[str, Any]], ref: Any, **columns: Any) -> int | None:
        """The id of a reference field, adding its row to a lookup table the first time."""
        ref_id = _ref_id(ref)
        if ref_id is not None and ref_id not in table:
            table[ref_id] = {"id": ref_id, **columns}
        return ref_id

    # Records ---------------------------------------------------------------------------------
    def _add_transaction(self, internal_id: int, kind: str, record: dict[str, Any]) -> None:
        suiteql_type = SUITEQL_TYPE[kind]
        currency_name = _ref_name(record.get("currency"))
        currency = self._remember(self.currencies, record.get("currency"), name=currency_name,
                                  symbol=_KNOWN_SYMBOLS.get((currency_name or "").lower()),
                                  isbasecurrency="T", exchangerate=1.0, isinactive="F")
        customer = _ref_name(record.get("entity"))
        entity = self._remember(self.customers, record.get("entity"), entityid=customer,
                                companyname=customer, altname=customer, isinactive="F")
        ship_method = _ref_id(record.get("shipMethod"))
        if ship_method is not None and _ref_name(record.get("shipMethod")):
            self.ship_methods[ship_method] = _ref_name(record.get("shipMethod")) or ""
        letter, name = _status_letter(kind, record), _status_name(record)
        if letter and name:
            self.status_names[(suiteql_type, letter)] = name
        tracking = record.get("linkedTrackingNumbers") or record.get("trackingNumbers")
        if not tracking:
            numbers = [p.get("packageTrackingNumber") for p in _sublist(record, "package")]
            tracking = " ".join(n for n in numbers if isinstance(n, str)) or None
        parent = _ref_id(record.get("createdFrom"))
        if parent is not None:
            self.parent_of[internal_id] = parent
        total = _number(record.get("total"))
        self.transactions[internal_id] = {
            "id": internal_id, "tranid": record.get("tranId"), "type": suiteql_type,
            "recordtype": kind.lower(), "status": letter, "trandate": self._day(record.get("tranDate")),
            "createddate": self._instant(record.get("createdDate")),
            "lastmodifieddate": self._instant(record.get("lastModifiedDate")),
            "otherrefnum": record.get("otherRefNum"), "externalid": record.get("externalId"),
            "entity": entity, "currency": currency, "exchangerate": _number(record.get("exchangeRate")),
            "foreigntotal": total, "memo": record.get("memo"), "shipdate": self._day(record.get("shipDate")),
            "shipmethod": ship_method, "trackingnumberlist": tracking, "voided": "F",
        }
        self._add_main_line(internal_id, total, parent)
        for line in _sublist(record, "item"):
            self._add_item_line(internal_id, line, parent)

    def _add_main_line(self, internal_id: int, total: float | None, parent: int | None) -> None:
        self.lines.append({"transaction": internal_id, "id": 0, "linesequencenumber": 0,
                           "uniquekey": self._next_key(), "mainline": "T", "taxline": "F",
                           "foreignamount": total, "netamount": total, "createdfrom": parent})

    def _add_item_line(self, internal_id: int, line: dict[str, Any], parent: int | None) -> None:
        number = int(_number(line.get("line")) or 0)
        item_type = _ref_name(line.get("itemType")) or "InvtPart"
        item = self._remember(self.items, line.get("item"), itemid=_ref_name(line.get("item")),
                              displayname=None, itemtype=item_type, isinactive="F")
        if item is not None and line.get("description") and not self.items[item]["displayname"]:
            self.items[item]["displayname"] = line["description"]
        location = self._remember(self.locations, line.get("location"),
                                  name=_ref_name(line.get("location")), isinactive="F")

        def negated(value: Any) -> float | None:
            # Item lines of sales transactions are stored from the inventory's side: negative
            # quantities and amounts (platform-apis.md §3, "widely reported").
            number = _number(value)
            return None if number is None else -number

        self.lines.append({
            "transaction": internal_id, "id": number, "linesequencenumber": number,
            "uniquekey": self._next_key(), "mainline": "F", "taxline": "F", "item": item,
            "itemtype": item_type, "quantity": negated(line.get("quantity")),
            "quantitybilled": negated(line.get("quantityBilled")),
            "quantityshiprecv": negated(line.get("quantityFulfilled")),
            "rate": _number(line.get("rate")), "foreignamount": negated(line.get("amount")),
            "netamount": negated(line.get("amount")), "createdfrom": parent,
            "isclosed": "T" if line.get("isClosed") else "F", "location": location,
            "memo": line.get("description"),
        })

    # SuiteQL rows ----------------------------------------------------------------------------
    def _currency_by_symbol(self, symbol: str) -> int:
        found = next((cid for cid, c in self.currencies.items() if c.get("symbol") == symbol), None)
        if found is None:
            found = max(self.currencies, default=0) + 1
            self.currencies[found] = {"id": found, "name": symbol, "symbol": symbol, "isbasecurrency": "F",
                                      "exchangerate": 1.0, "isinactive": "F"}
        return found

    def _merge_row(self, internal_id: int, row: dict[str, Any]) -> None:
        """A SuiteQL row: the only source of a transaction without a record payload, and the
        authority for the status letter; otherwise it fills what the record lacks."""
        columns = self.transactions.setdefault(internal_id, {"id": internal_id, "voided": "F"})
        kind = next((k for k, t in SUITEQL_TYPE.items() if t == row.get("type")), None)
        symbol = row.get("currency")
        from_row = {
            "tranid": row.get("tranid"), "type": row.get("type"),
            "recordtype": kind.lower() if kind else None, "trandate": self._day(row.get("trandate")),
            "createddate": self._local(row.get("createddate")),
            "lastmodifieddate": self._local(row.get("lastmodifieddate")),
            "otherrefnum": row.get("otherrefnum"), "externalid": row.get("externalid"),
            "foreigntotal": _number(row.get("foreigntotal")),
            "currency": self._currency_by_symbol(symbol) if isinstance(symbol, str) else None,
            "entity": _ref_id(row.get("entity")),
        }
        for column, value in from_row.items():
            if columns.get(column) is None and value is not None:
                columns[column] = value
        if row.get("status"):
            columns["status"] = row["status"]
        parent = _ref_id(row.get("createdfrom"))
        if parent is not None:
            self.parent_of.setdefault(internal_id, parent)
        if internal_id not in self.records:
            self._add_main_line(internal_id, columns.get("foreigntotal"), parent)

    # Links and notes --------------------------------------------------------------------------
    def _links(self) -> list[dict[str, Any]]:
        """NextTransactionLineLink rows: each child line to the sales-order line it consumed."""
        lines_of: dict[int, list[dict[str, Any]]] = {}
        for line in self.lines:
            if line["mainline"] == "F":
                lines_of.setdefault(line["transaction"], []).append(line)
        links: dict[tuple[int, int, int, int], dict[str, Any]] = {}
        for child, parent in self.parent_of.items():
            child_row = self.transactions.get(child)
            if child_row is None:
                continue
            next_type = child_row.get("type") or ""
            previous_type = self.transactions.get(parent, {}).get("type") or "SalesOrd"
            unused = list(lines_of.get(parent, []))
            order_line = {int(_number(line.get("line")) or 0): _number(line.get("orderLine"))
                          for line in _sublist(self.records.get(child, ("", {}))[1], "item")}
            pairs: list[tuple[int, int, float | None]] = []
            for line in lines_of.get(child, []):
                # A fulfillment line names its order line; an invoice line is matched by item.
                wanted = order_line.get(line["id"])
                match = next((p for p in unused if wanted is not None and p["id"] == int(wanted)), None) \
                    or next((p for p in unused if p.get("item") == line.get("item")), None)
                if match:
                    unused.remove(match)
                amount = line.get("foreignamount")
                pairs.append((match["id"] if match else line["id"], line["id"],
                              None if amount is None else -amount))
            if not pairs:
                # Known only from a SuiteQL row (no lines): link its header to the order's first line.
                parent_lines = lines_of.get(parent, [])
                pairs.append((parent_lines[0]["id"] if parent_lines else 1, 0, None))
            for previous_line, next_line, amount in pairs:
                links[(parent, previous_line, child, next_line)] = {
                    "previousdoc": parent, "previousline": previous_line, "previoustype": previous_type,
                    "nextdoc": child, "nextline": next_line, "nexttype": next_type,
                    "linktype": LINK_TYPE.get(next_type, "OrdBill"), "linkdate": child_row.get("trandate"),
                    "lastmodifieddate": child_row.get("lastmodifieddate") or child_row.get("createddate"),
                    "foreignamount": amount if next_type != "ItemShip" else None,
                }
        return list(links.values())

    def _notes(self) -> list[dict[str, Any]]:
        return [{
            "id": note_id, "recordid": _ref_id(row.get("recordid")),
            # The samples' notes are all transaction notes (recordtypeid -30, as clients filter).
            "recordtypeid": _ref_id(row.get("recordtypeid")) or -30, "date": self._local(row.get("date")),
            "field": row.get("field"), "oldvalue": row.get("oldvalue"), "newvalue": row.get("newvalue"),
            "context": row.get("context"), "name": _ref_id(row.get("name")) or row.get("name"),
            "type": _ref_id(row.get("type")) or row.get("type"), "role": _ref_id(row.get("role")),
        } for note_id, row in self.note_rows.items()]


def build_database(files: Iterable[tuple[str, Any]], zone: ZoneInfo = ACCOUNT_ZONE) -> SuiteQLDatabase:
    """The SuiteQL tables of every ``(".../netsuite/<file>.json", payload)`` of a dataset."""
    builder = TableBuilder(zone)
    for path, payload in files:
        if not isinstance(payload, dict):
            continue
        kind = record_kind(path, payload)
        if kind is not None:
            builder.add_record(kind, payload)
        elif isinstance(payload.get("items"), list) and "totalResults" in payload:
            builder.add_suiteql(payload)
    return builder.build()


_RECORD_FILE = re.compile(r"([A-Za-z]+)-\d+\.json$")
_SELF_HREF = re.compile(r"/record/v1/([A-Za-z]+)/\d+$")


def record_kind(path: str, payload: dict[str, Any]) -> str | None:
    """The record type of a record API payload file (from its name, else its self link), or None."""
    match = _RECORD_FILE.search(path.rsplit("/", 1)[-1])
    if match and match.group(1).lower() in RECORD_KINDS:
        return RECORD_KINDS[match.group(1).lower()]
    if "totalResults" in payload:
        return None
    for link in payload.get("links") or []:
        href = link.get("href") if isinstance(link, dict) else None
        found = _SELF_HREF.search(href or "")
        if found and found.group(1).lower() in RECORD_KINDS:
            return RECORD_KINDS[found.group(1).lower()]
    return None
