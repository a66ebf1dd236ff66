"""NetSuite's native status values and what each means on the canonical dimensions.

Each table is keyed by the status letter and by its display name, since the REST record
API, SuiteQL and system notes each show one or the other (``"B"``, ``{"id": "B",
"refName": "Pending Fulfillment"}``, ``"Pending Fulfillment"``). Letters and names come
from ``shared/design/platform-apis.md`` §3, which read them from the REST 2020.2 metadata
enums (github bwc/netsuite-rest-record-php-library) and the ``SalesOrd:X`` / ``ItemShip:X``
/ ``CustInvc:X`` / ``CashSale:X`` search codes. Enum letters with no documented meaning are
deliberately left out: they become ``unknown`` plus an unmapped-status finding, which a
person can then map through the configuration's status overrides.
"""

from __future__ import annotations

from adapters.base import StatusMapping, StatusTable
from audit.model import Financial, Fulfillment, Origin

F = Fulfillment
M = Financial


def _table(name: str, source: str, rows: list[tuple[str, str, StatusMapping]]) -> StatusTable:
    """A table answering to both the letter and the display name of each status."""
    entries: dict[str, StatusMapping] = {}
    for letter, display, mapping in rows:
        entries[letter] = mapping
        entries[display] = mapping
    return StatusTable(name=name, source=source, entries=entries)


# (letter, display name, mapping). Y is in the REST enum but no source says what it means:
# it stays unmapped on purpose.
_SALES_ORDER_ROWS: list[tuple[str, str, StatusMapping]] = [
    # The first step of approval routing, not a hold: nothing released, shipped or billed.
    ("A", "Pending Approval", StatusMapping(F.OPEN, M.PENDING)),
    ("B", "Pending Fulfillment", StatusMapping(F.OPEN, M.PENDING)),
    # NetSuite only lets an order with nothing fulfilled or billed be cancelled, so no money
    # is owed on it: voided is how storefronts report a cancelled, never-settled order too.
    ("C", "Cancelled", StatusMapping(F.CANCELLED, M.VOIDED)),
    # Reached after the shipped part has been billed (otherwise the order sits at E), so an
    # invoice exists for what left the warehouse.
    ("D", "Partially Fulfilled", StatusMapping(F.PARTIAL, M.INVOICED)),
    # Part shipped, and that part still waits for its invoice.
    ("E", "Pending Billing/Partially Fulfilled", StatusMapping(F.PARTIAL, M.PENDING)),
    # Every line shipped, nothing invoiced yet: the fused state that splits into two dimensions.
    ("F", "Pending Billing", StatusMapping(F.SHIPPED, M.PENDING)),
    # Invoiced; an order only bills what it shipped (or closed), so it has shipped.
    ("G", "Billed", StatusMapping(F.SHIPPED, M.INVOICED)),
    # Closed means "no more will happen": the remaining lines were closed. Whether that ended a
    # shipped order or one that never shipped is not in the status, so the table says nothing
    # and the normaliser reads both dimensions from the lines and the attached invoices.
    ("H", "Closed", StatusMapping(None, None)),
]

SALES_ORDER = _table(
    "NetSuite salesOrder.orderStatus (SalesOrd:X)",
    "platform-apis.md §3 'Sales order statuses' (REST 2020.2 enum A–H,Y; SalesOrd:A–H search codes)",
    _SALES_ORDER_ROWS,
)
SALES_ORDER_NAMES: dict[str, str] = {letter: display for letter, display, _ in _SALES_ORDER_ROWS}

# The item fulfillment's own state, read from shipStatus (or status, which uses the same
# ItemShip:A/B/C codes). The metadata enum of shipStatus lists A–J, but only A–C have a
# documented meaning ("in practice A = Picked, B = Packed, C = Shipped"): D–J stay unmapped.
_ITEM_FULFILLMENT_ROWS: list[tuple[str, str, StatusMapping]] = [
    # Picked and packed fulfillments are still in the warehouse: nothing has left.
    ("A", "Picked", StatusMapping(F.OPEN)),
    ("B", "Packed", StatusMapping(F.OPEN)),
    ("C", "Shipped", StatusMapping(F.SHIPPED)),
]

ITEM_FULFILLMENT = _table(
    "NetSuite itemFulfillment.shipStatus (ItemShip:X)",
    "platform-apis.md §3 itemFulfillment (REST 2020.2 shipStatus enum A–J; ItemShip:A Picked, B Packed, C Shipped)",
    _ITEM_FULFILLMENT_ROWS,
)
ITEM_FULFILLMENT_NAMES: dict[str, str] = {letter: display for letter, display, _ in _ITEM_FULFILLMENT_ROWS}

# Invoice status enum A,B,D,E,V,Y: only A and B have a confirmed meaning.
_INVOICE_ROWS: list[tuple[str, str, StatusMapping]] = [
    ("A", "Open", StatusMapping(financial=M.INVOICED)),
    # Paid in full is still invoiced: invoiced is the end of the financial line (paid < invoiced),
    # and collecting the invoice does not move the order backwards.
    ("B", "Paid In Full", StatusMapping(financial=M.INVOICED)),
]

INVOICE = _table(
    "NetSuite invoice.status (CustInvc:X)",
    "platform-apis.md §3 invoice (REST 2020.2 status enum A,B,D,E,V,Y; CustInvc:A Open, CustInvc:B Paid In Full)",
    _INVOICE_ROWS,
)
INVOICE_NAMES: dict[str, str] = {letter: display for letter, display, _ in _INVOICE_ROWS}

# Cash sale status enum A,B,C,Y; Y has no documented meaning.
_CASH_SALE_ROWS: list[tuple[str, str, StatusMapping]] = [
    # The card payment is not approved yet: the sale is recorded but no money is secured.
    ("A", "Unapproved Payment", StatusMapping(financial=M.PENDING)),
    # A cash sale is invoice and receipt in one document; once its payment is approved it is
    # billed and paid, the end of the financial line.
    ("B", "Not Deposited", StatusMapping(financial=M.INVOICED)),
    ("C", "Deposited", StatusMapping(financial=M.INVOICED)),
]

CASH_SALE = _table(
    "NetSuite cashSale.status (CashSale:X)",
    "platform-apis.md §3 cashSale (REST 2020.2 status enum A,B,C,Y; CashSale:A Unapproved Payment, B Not Deposited, C Deposited)",
    _CASH_SALE_ROWS,
)
CASH_SALE_NAMES: dict[str, str] = {letter: display for letter, display, _ in _CASH_SALE_ROWS}

# Who made a change, from the SystemNote ``context`` column. SuiteQL returns short codes:
# UIF = user interface (timdietrich.me "NetSuite SuiteQL System Notes Auditing"); RST RESTlet,
# SCH scheduled script, SLT Suitelet, UES user event script, WST Web Store, CSV CSV import,
# MPR map/reduce (public SuiteQL tooling that documents the column, e.g. MCP servers'
# get_system_notes descriptions). Saved searches and the UI show the display names of Oracle's
# "Understanding the Context for Changes > Available Context Values" page instead, so those are
# accepted too. No source confirms the short code of SOAP or REST web services; their display
# names are mapped, and any other code gives origin unknown rather than a guess.
_PERSON = Origin.PERSON
_INTEGRATION = Origin.INTEGRATION
_PLATFORM = Origin.PLATFORM

CONTEXT_ORIGINS: dict[str, Origin] = {
    # Someone at a screen.
    "UIF": _PERSON,
    "UI": _PERSON,
    "User Interface": _PERSON,
    "Mobile": _PERSON,
    # Bulk pages and mass updates are run by a person in the UI, record by record on their behalf.
    "Bulk Processing": _PERSON,
    "Mass Update": _PERSON,
    # Data pushed in by another system or by code: the paths integrations and middleware use.
    "CSV": _INTEGRATION,
    "CSV Import": _INTEGRATION,
    "SOAP Web Services": _INTEGRATION,
    "Web Services": _INTEGRATION,
    "REST Web Services": _INTEGRATION,
    "RST": _INTEGRATION,
    "Script (RESTlet)": _INTEGRATION,
    "SCH": _INTEGRATION,
    "Script (Scheduled)": _INTEGRATION,
    "SLT": _INTEGRATION,
    "Script (Suitelet)": _INTEGRATION,
    "UES": _INTEGRATION,
    "Script (User Event)": _INTEGRATION,
    "MPR": _INTEGRATION,
    "Script (Map/Reduce)": _INTEGRATION,
    "Script (Mass Update)": _INTEGRATION,
    "Script (Client)": _INTEGRATION,
    "Script (Portlet)": _INTEGRATION,
    "Script (SSP Application)": _INTEGRATION,
    "Script (Workflow Action)": _INTEGRATION,
    # NetSuite's own machinery: its web store, its workflows, campaign responses.
    "WST": _PLATFORM,
    "Web Store": _PLATFORM,
    "Scheduled Workflow": _PLATFORM,
    "Workflow": _PLATFORM,
    "Campaign Response": _PLATFORM,
}
_CONTEXT_FOLDED = {key.casefold(): origin for key, origin in CONTEXT_ORIGINS.items()}


def origin_of_context(context: str | None) -> Origin:
    """The origin a system note's context names, or unknown."""
    if not context:
        return Origin.UNKNOWN
    return _CONTEXT_FOLDED.get(context.strip().casefold(), Origin.UNKNOWN)
