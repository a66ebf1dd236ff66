"""The SuiteQL statements whose rows the normaliser reads, and a safe way to fill them in.

The REST SuiteQL endpoint (``POST /services/rest/query/v1/suiteql``, body ``{"q": ...}``)
takes no bind parameters, so the statements carry ``?`` placeholders and :func:`render`
replaces each with an escaped literal. A ref is never pasted into SQL any other way.

Dates: SuiteQL renders date-times in the user's date format and time zone, so every
date-time column goes through ``TO_CHAR(col, 'YYYY-MM-DD HH24:MI:SS')`` (local time of the
account, read with ``context.timezone``). ``trandate`` is a date with no time: it is left as
SuiteQL renders it (``M/D/YYYY`` under the default US preference) and read as a whole day.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Each branch returns the same columns; null columns are left out of the JSON rows.
_TRANSACTION_COLUMNS = """t.id, t.tranid, t.type, t.status, t.trandate,
       TO_CHAR(t.createddate, 'YYYY-MM-DD HH24:MI:SS') AS createddate,
       TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS lastmodifieddate,
       t.otherrefnum, t.externalid, t.foreigntotal, cur.symbol AS currency"""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def transactions_by_order_ref(ref_column: str = "otherrefnum") -> str:
    """The sales orders whose ``ref_column`` equals the ref, and every fulfillment, invoice or cash sale created from them.

    Two placeholders, both the order ref. Children are found through
    ``NextTransactionLineLink`` (``createdfrom`` is not exposed on every account); the parent
    id comes back as ``createdfrom``.
    """
    if not _IDENTIFIER.fullmatch(ref_column):
        raise ValueError(f"not a SuiteQL column name: {ref_column!r}")
    return f"""SELECT {_TRANSACTION_COLUMNS}, NULL AS createdfrom
FROM transaction t
LEFT JOIN currency cur ON cur.id = t.currency
WHERE t.type = 'SalesOrd' AND t.{ref_column} = ?
UNION ALL
SELECT DISTINCT {_TRANSACTION_COLUMNS}, link.previousdoc AS createdfrom
FROM NextTransactionLineLink link
JOIN transaction so ON so.id = link.previousdoc
JOIN transaction t ON t.id = link.nextdoc
LEFT JOIN currency cur ON cur.id = t.currency
WHERE so.type = 'SalesOrd' AND so.{ref_column} = ?
  AND t.type IN ('ItemShip', 'CustInvc', 'CashSale')
ORDER BY id"""


TRANSACTIONS_BY_ORDER_REF = transactions_by_order_ref()


def system_notes_for_transactions(count: int) -> str:
    """The status changes of ``count`` transactions (one ``?`` per internal id).

    ``recordtypeid = -30`` (transactions) is what lets the huge SystemNote table use its
    index; ``TRANDOC.KSTATUS`` is the header status field; old and new values are display
    names ("Pending Fulfillment").
    """
    if count < 1:
        raise ValueError("system notes need at least one transaction id")
    placeholders = ", ".join("?" for _ in range(count))
    return f"""SELECT sn.id, sn.recordid, TO_CHAR(sn.date, 'YYYY-MM-DD HH24:MI:SS') AS date,
       sn.field, sn.oldvalue, sn.newvalue, sn.context, sn.name, sn.type
FROM SystemNote sn
WHERE sn.recordtypeid = -30 AND sn.field = 'TRANDOC.KSTATUS'
  AND sn.recordid IN ({placeholders})
ORDER BY sn.date, sn.id"""


SYSTEM_NOTES_FOR_TRANSACTIONS = system_notes_for_transactions(1)


def sales_orders_modified(ref_column: str = "otherrefnum", *, bounded: bool = True) -> str:
    """The sales orders last modified in a window, one page after a keyset cursor, for ``window()``.

    Placeholders: the lower bound, the upper bound (only when ``bounded``), and the internal id
    after which to start (0 for the first page). The bounds are strings in the account's local
    time, ``YYYY-MM-DD HH24:MI:SS``, compared with the same TO_CHAR rendering of
    ``lastmodifieddate``: a fixed-width, zero-padded string sorts like the time it names and
    does not depend on the user's date-format preference, which a ``TO_TIMESTAMP`` literal
    would be read through. Pages follow ``t.id`` (unique and never reused) instead of an
    offset, so an order modified mid-sync cannot shift the rows after it onto a page already
    read, and the 100,000-row ceiling of one SuiteQL query never applies.
    """
    if not _IDENTIFIER.fullmatch(ref_column):
        raise ValueError(f"not a SuiteQL column name: {ref_column!r}")
    ref = "" if ref_column.lower() == "tranid" else f", t.{ref_column}"
    upper = "\n  AND TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') < ?" if bounded else ""
    return f"""SELECT t.id, t.tranid{ref},
       TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS lastmodifieddate
FROM transaction t
WHERE t.type = 'SalesOrd'
  AND TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') >= ?{upper}
  AND t.id > ?
ORDER BY t.id"""


def sql_literal(value: str | int) -> str:
    """A value as a SuiteQL literal: integers as digits, strings quoted with ``'`` doubled.

    SuiteQL follows Oracle SQL, where a quote inside a string is written twice and a
    backslash is an ordinary character. A NUL cannot be carried safely, so it is refused.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"SuiteQL parameters are str or int, not {type(value).__name__}")
    if isinstance(value, int):
        return str(value)
    if "\x00" in value:
        raise ValueError("a SuiteQL string cannot contain a NUL character")
    return "'" + value.replace("'", "''") + "'"


def render(statement: str, params: Sequence[str | int]) -> str:
    """The statement with each ``?`` outside string literals replaced by the next parameter, escaped."""
    pieces: list[str] = []
    remaining = list(params)
    in_string = False
    for char in statement:
        if char == "'":
            in_string = not in_string
        if char == "?" and not in_string:
            if not remaining:
                raise ValueError("more placeholders than parameters")
            pieces.append(sql_literal(remaining.pop(0)))
        else:
            pieces.append(char)
    if remaining:
        raise ValueError(f"{len(remaining)} parameter(s) left over: fewer placeholders than parameters")
    return "".join(pieces)
