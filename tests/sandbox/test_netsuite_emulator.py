"""The NetSuite emulator over HTTP on 127.0.0.1: TBA and OAuth 2.0, SuiteQL, the record API, concurrency.

Requests are signed with oauthlib (what clients use) so the emulator's own RFC 5849 reading is
checked against an independent one. The SuiteQL statements are the shapes the adapter sends
(adapters/netsuite/queries.py, read, not imported: the sandbox is an independent reading).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import httpx
import jwt
import pytest
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, Client

from sandbox.core import EmulatorSettings, Fault, NetSuiteCredentials, RequestLog, instrument
from sandbox.data import Dataset
from sandbox.netsuite import (
    NETSUITE_KEY,
    base_string_uri,
    hmac_sha256_signature,
    make_app,
    signature_base_string,
)
from sandbox.server import Sandbox
from sandbox.suiteql import SuiteQLError, build_database, format_datetime, parse_datetime, translate

SUITEQL = "/services/rest/query/v1/suiteql"
TOKEN = "/services/rest/auth/oauth2/v1/token"
RECORD = "/services/rest/record/v1"
CREDS = NetSuiteCredentials()
SETTINGS = EmulatorSettings(time_scale=1000.0)

# The adapter's statements (adapters/netsuite/queries.py): sales orders by ref, every fulfillment,
# invoice or cash sale created from them through NextTransactionLineLink, and status notes.
_COLUMNS = """t.id, t.tranid, t.type, t.status, t.trandate,
       TO_CHAR(t.createddate, 'YYYY-MM-DD HH24:MI:SS') AS createddate,
       TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS lastmodifieddate,
       t.otherrefnum, t.externalid, t.foreigntotal, cur.symbol AS currency"""
TRANSACTIONS_BY_REF = f"""SELECT {_COLUMNS}, NULL AS createdfrom
FROM transaction t
LEFT JOIN currency cur ON cur.id = t.currency
WHERE t.type = 'SalesOrd' AND t.otherrefnum = {{ref}}
UNION ALL
SELECT DISTINCT {_COLUMNS}, link.previousdoc AS createdfrom
FROM NextTransactionLineLink link
JOIN transaction so ON so.id = link.previousdoc
JOIN transaction t ON t.id = link.nextdoc
LEFT JOIN currency cur ON cur.id = t.currency
WHERE so.type = 'SalesOrd' AND so.otherrefnum = {{ref}}
  AND t.type IN ('ItemShip', 'CustInvc', 'CashSale')
ORDER BY id"""
SYSTEM_NOTES = """SELECT sn.id, sn.recordid, TO_CHAR(sn.date, 'YYYY-MM-DD HH24:MI:SS') AS date,
       sn.field, sn.oldvalue, sn.newvalue, sn.context, sn.name, sn.type
FROM SystemNote sn
WHERE sn.recordtypeid = -30 AND sn.field = 'TRANDOC.KSTATUS'
  AND sn.recordid IN ({ids})
ORDER BY sn.date, sn.id"""


def literal(value: str) -> str:
    """A SuiteQL string literal, the quote doubled (Oracle's only escape)."""
    return "'" + value.replace("'", "''") + "'"


def by_ref(ref: str) -> str:
    return TRANSACTIONS_BY_REF.format(ref=literal(ref))


def sample_ref(case: Any) -> str:
    line = next(v for k, v in case.requests.items() if k.endswith("suiteql-transactions.json"))
    match = re.search(r"otherrefnum = '(.*)'\)$", line)
    assert match, line
    return match.group(1)


def rows_of(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k != "links"} for item in payload["items"]]


class TBA(httpx.Auth):
    """OAuth 1.0a token-based auth signed by oauthlib, as NetSuite clients do."""

    def __init__(self, creds: NetSuiteCredentials = CREDS, *, method: str = SIGNATURE_HMAC_SHA256,
                 realm: str | None = None, **overrides: str) -> None:
        self.client = Client(
            overrides.get("consumer_key", creds.consumer_key),
            client_secret=overrides.get("consumer_secret", creds.consumer_secret),
            resource_owner_key=overrides.get("token_id", creds.token_id),
            resource_owner_secret=overrides.get("token_secret", creds.token_secret),
            signature_method=method, realm=realm or creds.account_id,
        )

    def header(self, method: str, url: str) -> str:
        _, headers, _ = self.client.sign(url, http_method=method)
        return headers["Authorization"]

    def auth_flow(self, request: httpx.Request):  # type: ignore[override]
        request.headers["Authorization"] = self.header(request.method, str(request.url))
        yield request


async def suiteql(http: httpx.AsyncClient, base: str, q: str, *, limit: int | None = 1000, offset: int = 0,
                  auth: httpx.Auth | None = None, prefer: str | None = "transient",
                  headers: dict[str, str] | None = None) -> httpx.Response:
    params = {} if limit is None else {"limit": str(limit), "offset": str(offset)}
    extra = {"Prefer": prefer} if prefer else {}
    return await http.post(f"{base}{SUITEQL}", params=params, json={"q": q},
                           headers={**extra, **(headers or {})}, auth=auth or TBA())


@pytest.fixture(scope="module")
def samples() -> Dataset:
    return Dataset.from_samples()


@pytest.fixture
async def box(samples: Dataset) -> AsyncIterator[Sandbox]:
    async with Sandbox(samples, SETTINGS, platforms=("netsuite",)) as sandbox:
        yield sandbox


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


def netsuite_base(box: Sandbox) -> str:
    assert box.urls.netsuite is not None
    return box.urls.netsuite


# --- SuiteQL: what the adapter sends returns the scenarios' rows ------------------------------------

async def test_adapter_query_returns_every_sample_scenarios_rows(box: Sandbox, http: httpx.AsyncClient,
                                                                 samples: Dataset) -> None:
    base = netsuite_base(box)
    for case in samples.cases:
        response = await suiteql(http, base, by_ref(sample_ref(case)))
        assert response.status_code == 200, (case.name, response.text)
        body = response.json()
        expected = case.files["netsuite/suiteql-transactions.json"]
        assert rows_of(body) == rows_of(expected), case.name
        assert (body["count"], body["hasMore"], body["offset"], body["totalResults"]) == \
            (expected["count"], False, 0, expected["totalResults"])
        assert all(item["links"] == [] for item in body["items"])
        assert body["links"] == [{"rel": "self", "href": f"{base}{SUITEQL}?limit=1000&offset=0"}]


async def test_system_notes_query_returns_the_status_history(box: Sandbox, http: httpx.AsyncClient,
                                                             samples: Dataset) -> None:
    case = next(c for c in samples.cases if c.name.startswith("13-"))
    response = await suiteql(http, netsuite_base(box), SYSTEM_NOTES.format(ids="20496"))
    assert response.status_code == 200, response.text
    assert rows_of(response.json()) == rows_of(case.files["netsuite/suiteql-systemnotes.json"])


SAMPLE_REFS = {sample_ref(case) for case in Dataset.from_samples().cases}


def test_generated_copies_are_found_by_their_new_refs() -> None:
    data = Dataset.generate(3, seed=11)
    database = build_database(data.files_for("netsuite"))
    seen: set[str] = set()
    for case in data.cases:
        ref = sample_ref(case)
        rows = database.execute(by_ref(ref)).rows
        expected = rows_of(case.files["netsuite/suiteql-transactions.json"])
        # Re-keyed ids keep no order between parent and children: compare as sets of rows.
        assert sorted(rows, key=lambda r: r["id"]) == sorted(expected, key=lambda r: r["id"]), case.name
        assert not seen & {row["id"] for row in rows}
        seen |= {row["id"] for row in rows}
        orders = [row for row in rows if row["type"] == "SalesOrd"]
        assert all(row["otherrefnum"] == ref for row in orders)
        assert re.fullmatch(r"\d{3}-\d{7}-\d{7}|#\d{4}", ref) and ref not in SAMPLE_REFS


async def test_paging_walks_every_row_once(box: Sandbox, http: httpx.AsyncClient) -> None:
    base = netsuite_base(box)
    q = "SELECT t.id, t.tranid FROM transaction t ORDER BY t.id"
    everything = (await suiteql(http, base, q)).json()
    total = everything["totalResults"]
    assert total == len(everything["items"]) > 5
    seen: list[str] = []
    offset, pages = 0, 0
    while True:
        body = (await suiteql(http, base, q, limit=4, offset=offset)).json()
        pages += 1
        assert body["offset"] == offset and body["count"] == len(body["items"]) <= 4
        assert body["totalResults"] == total
        seen += [item["id"] for item in body["items"]]
        rels = {link["rel"]: link["href"] for link in body["links"]}
        assert rels["self"].endswith(f"limit=4&offset={offset}")
        assert rels["first"].endswith("offset=0") and "last" in rels
        if not body["hasMore"]:
            assert "next" not in rels
            break
        assert rels["next"].endswith(f"offset={offset + 4}")
        offset += 4
    assert seen == [item["id"] for item in everything["items"]]
    assert len(set(seen)) == total and pages == -(-total // 4)
    # Past the end: an empty page, not an error.
    beyond = (await suiteql(http, base, q, limit=4, offset=total + 8)).json()
    assert beyond["items"] == [] and beyond["hasMore"] is False


@pytest.mark.parametrize("limit", [0, 1001, -5])
async def test_limit_outside_1_to_1000_is_refused(box: Sandbox, http: httpx.AsyncClient, limit: int) -> None:
    response = await suiteql(http, netsuite_base(box), "SELECT id FROM transaction", limit=limit)
    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorQueryParam"] == "limit"


async def test_default_page_is_1000(box: Sandbox, http: httpx.AsyncClient) -> None:
    response = await suiteql(http, netsuite_base(box), "SELECT id FROM transaction", limit=None)
    assert response.status_code == 200
    assert response.json()["links"][-1]["href"].endswith("limit=1000&offset=0")


async def test_missing_prefer_transient_is_a_400(box: Sandbox, http: httpx.AsyncClient) -> None:
    response = await suiteql(http, netsuite_base(box), "SELECT id FROM transaction", prefer=None)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400 and "Prefer: transient" in body["o:errorDetails"][0]["detail"]


# --- dates, TO_CHAR, Oracle-isms ----------------------------------------------------------------

async def test_dates_render_in_the_account_zone(box: Sandbox, http: httpx.AsyncClient) -> None:
    # Scenario 07: created 2026-03-03T02:36:00Z, which is still 2 March in Los Angeles.
    q = """SELECT t.trandate, t.createddate AS created_plain,
              TO_CHAR(t.createddate, 'YYYY-MM-DD HH24:MI:SS') AS created_local,
              TO_CHAR(t.trandate, 'YYYY-MM-DD') AS day,
              TO_CHAR(t.createddate, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM') AS with_offset,
              TO_CHAR(t.createddate, 'Mon DD, YYYY HH12:MI AM') AS spelled
           FROM transaction t WHERE t.tranid = 'SO10488'"""
    response = await suiteql(http, netsuite_base(box), q)
    assert response.status_code == 200, response.text
    assert rows_of(response.json()) == [{
        "trandate": "3/2/2026", "created_plain": "3/2/2026", "created_local": "2026-03-02 18:36:00",
        "day": "2026-03-02", "with_offset": "2026-03-02T18:36:00-08:00", "spelled": "Mar 02, 2026 06:36 PM",
    }]


async def test_date_windows_compare_in_local_time(box: Sandbox, http: httpx.AsyncClient) -> None:
    base = netsuite_base(box)
    local_day = """SELECT t.tranid FROM transaction t
        WHERE t.createddate >= TO_DATE('2026-03-02 18:00:00', 'YYYY-MM-DD HH24:MI:SS')
          AND t.createddate < TO_TIMESTAMP('2026-03-02 19:00:00', 'YYYY-MM-DD HH24:MI:SS')"""
    assert rows_of((await suiteql(http, base, local_day)).json()) == [{"tranid": "SO10488"}]
    by_date = "SELECT t.tranid FROM transaction t WHERE t.trandate = DATE '2026-03-02' AND t.tranid = 'SO10488'"
    assert rows_of((await suiteql(http, base, by_date)).json()) == [{"tranid": "SO10488"}]
    utc = """SELECT t.tranid FROM transaction t WHERE t.createddate =
        TO_TIMESTAMP_TZ('2026-03-03 02:36:00 +00:00', 'YYYY-MM-DD HH24:MI:SS TZH:TZM')"""
    assert rows_of((await suiteql(http, base, utc)).json()) == [{"tranid": "SO10488"}]


def test_oracle_date_formats_round_trip_across_daylight_saving() -> None:
    zone = ZoneInfo("America/Los_Angeles")
    summer = parse_datetime("2026-07-01 12:00:00", "YYYY-MM-DD HH24:MI:SS", zone)
    assert summer == "2026-07-01T19:00:00Z"  # PDT, UTC-7
    assert parse_datetime("03/02/2026", "MM/DD/YYYY", zone) == "2026-03-02T08:00:00Z"  # PST
    assert parse_datetime("2026-03-02", None, zone) == "2026-03-02T08:00:00Z"
    assert format_datetime(datetime(2026, 7, 1, 12, tzinfo=zone),
                           'YYYY-MM-DD"T"HH24:MI:SS TZH:TZM') == "2026-07-01T12:00:00 -07:00"
    with pytest.raises(ValueError):
        parse_datetime("2026-13-45", "YYYY-MM-DD", zone)


async def test_builtin_df_rownum_fetch_first_and_null_columns(box: Sandbox, http: httpx.AsyncClient) -> None:
    base = netsuite_base(box)
    q = """SELECT t.id, BUILTIN.DF(t.status) AS status, BUILTIN.DF(t.type) AS kind,
              BUILTIN.DF(t.entity) AS customer, BUILTIN.DF(t.currency) AS money, t.otherrefnum
           FROM Transaction t WHERE t.id IN (20483, 20533, 20492) ORDER BY t.id"""
    assert rows_of((await suiteql(http, base, q)).json()) == [
        {"id": "20483", "status": "Sales Order : Billed", "kind": "Sales Order",
         "customer": "Amazon.com Marketplace (US)", "money": "US Dollar", "otherrefnum": "113-2201934-5567102"},
        # Scenario 09's unmapped status keeps the name its record gives it.
        {"id": "20492", "status": "Sales Order : Pending Review", "kind": "Sales Order",
         "customer": "Amazon.com Marketplace (US)", "money": "US Dollar", "otherrefnum": "113-8812034-7720456"},
        # An item fulfillment has no currency nor ref: those columns are left out, not null.
        {"id": "20533", "status": "Item Fulfillment : Shipped", "kind": "Item Fulfillment",
         "customer": "Amazon.com Marketplace (US)"},
    ]
    rownum = "SELECT * FROM (SELECT id FROM transaction ORDER BY id DESC) WHERE ROWNUM <= 2"
    fetch = "SELECT id FROM transaction ORDER BY id DESC FETCH FIRST 2 ROWS ONLY"
    first = rows_of((await suiteql(http, base, rownum)).json())
    assert len(first) == 2 and first == rows_of((await suiteql(http, base, fetch)).json())
    lines = """SELECT tl.id, tl.quantity, tl.foreignamount, BUILTIN.DF(tl.item) AS sku
               FROM transactionline tl WHERE tl.transaction = 20483 AND tl.mainline = 'F' ORDER BY tl.id"""
    assert rows_of((await suiteql(http, base, lines)).json()) == [
        {"id": "1", "quantity": "-1", "foreignamount": "-24.99", "sku": "TEE-RED-M"},
        {"id": "2", "quantity": "-1", "foreignamount": "-19.99", "sku": "CAP-NVY"},
    ]


# --- hostile input ------------------------------------------------------------------------------

HOSTILE_REFS = [
    "x' OR '1'='1",
    "113-2201934-5567102' --",
    "'; DELETE FROM transaction; --",
    "113-2201934-5567102') UNION SELECT name, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 FROM sqlite_master --",
    "\\' OR 1=1 --",
    "#1187'||'",
    "''''",
    "Robert'); DROP TABLE transaction;--",
    "ümlaut ' \" ` ; /* */",
]


@pytest.mark.parametrize("ref", HOSTILE_REFS)
async def test_hostile_literals_cannot_break_out(box: Sandbox, http: httpx.AsyncClient, ref: str) -> None:
    base = netsuite_base(box)
    response = await suiteql(http, base, by_ref(ref))
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []  # the whole ref was compared, as one string
    intact = await suiteql(http, base, by_ref("113-2201934-5567102"))
    assert len(intact.json()["items"]) == 3


@pytest.mark.parametrize("q", [
    "DELETE FROM transaction",
    "UPDATE transaction SET status = 'C'",
    "INSERT INTO transaction (id) VALUES (1)",
    "DROP TABLE transaction",
    "PRAGMA query_only = OFF",
    "ATTACH DATABASE ':memory:' AS x",
    "SELECT id FROM transaction; DELETE FROM transaction",
    "SELECT id FROM transaction WHERE otherrefnum = 'x' OR '1'='1'; DROP TABLE transaction --'",
    "WITH x AS (DELETE FROM transaction RETURNING id) SELECT * FROM x",
    "SELECT name FROM sqlite_master",
    "SELECT id FROM transaction LIMIT 1",
    "SELECT id FROM transaction WHERE otherrefnum = 'unterminated",
    "SELECT id FROM transaction WHERE id = ?",
    "SELECT balance FROM transaction",
    "SELECT id FROM nosuchtable",
])
async def test_statements_that_are_not_a_plain_select_are_refused_and_logged(
        box: Sandbox, http: httpx.AsyncClient, q: str) -> None:
    base = netsuite_base(box)
    response = await suiteql(http, base, q)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["title"] == "Bad Request" and body["status"] == 400
    detail = body["o:errorDetails"][0]
    assert detail["o:errorCode"] == "INVALID_PARAMETER" and detail["o:errorQueryParam"] == "q"
    assert detail["detail"].startswith("Invalid search query. Detailed unprocessed description follows.")
    logged = box.log.entries("netsuite")[-1]
    assert (logged.method, logged.status) == ("POST", 400) and json.loads(logged.body or "{}")["q"] == q
    assert {k.lower(): v for k, v in logged.headers.items()}["authorization"] == "***"
    assert len((await suiteql(http, base, by_ref("113-2201934-5567102"))).json()["items"]) == 3


def test_translation_keeps_every_literal_whole() -> None:
    sql = translate("SELECT id FROM transaction WHERE tranid = 'a''b' AND memo = '--' AND x = '/*'")
    assert "'a''b'" in sql and "'--'" in sql and "'/*'" in sql
    with pytest.raises(SuiteQLError):
        translate("SELECT 1 FROM dual WHERE 'a' = 'b")


# --- OAuth 1.0a ----------------------------------------------------------------------------------

def test_signature_matches_the_rfc_5849_reading_of_oauthlib() -> None:
    url = "http://127.0.0.1:8702/services/rest/query/v1/suiteql?limit=10&offset=0&q=a%20b%2Bc"
    header = TBA().header("POST", url)
    params = dict(re.findall(r'(\w+)="([^"]*)"', header))
    signed = [(k, unquote(v)) for k, v in params.items() if k not in ("realm", "oauth_signature")]
    signed += [("limit", "10"), ("offset", "0"), ("q", "a b+c")]
    uri = base_string_uri("http", "127.0.0.1:8702", "/services/rest/query/v1/suiteql")
    ours = hmac_sha256_signature(signature_base_string("POST", uri, signed),
                                 CREDS.consumer_secret, CREDS.token_secret)
    assert ours == unquote(params["oauth_signature"])
    assert base_string_uri("HTTPS", "Example.COM:443", "/a") == "https://example.com/a"


async def test_good_signature_accepted_with_query_parameters(box: Sandbox, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{netsuite_base(box)}{RECORD}/salesOrder/20482",
                              params={"expandSubResources": "true", "fields": "a b,c"}, auth=TBA())
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("auth, reason", [
    (TBA(token_secret="wrong"), "signature does not match"),
    (TBA(consumer_secret="wrong"), "signature does not match"),
    (TBA(consumer_key="someone-else"), "unknown consumer key or token"),
    (TBA(realm="7654321"), "realm is not the account id"),
    (TBA(method=SIGNATURE_HMAC_SHA1), "signature method is not HMAC-SHA256"),
])
async def test_bad_credentials_get_netsuites_401(box: Sandbox, http: httpx.AsyncClient,
                                                 auth: httpx.Auth, reason: str) -> None:
    response = await suiteql(http, netsuite_base(box), "SELECT id FROM transaction", auth=auth)
    assert response.status_code == 401
    assert response.json() == {
        "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
        "title": "Unauthorized", "status": 401,
        "o:errorDetails": [{"detail": response.json()["o:errorDetails"][0]["detail"], "o:errorCode": "INVALID_LOGIN"}],
    }
    assert response.json()["o:errorDetails"][0]["detail"].startswith("Invalid login attempt.")
    assert response.headers["X-Sandbox-Auth-Failure"] == reason


async def test_tampered_replayed_stale_or_missing_signatures_are_refused(box: Sandbox, http: httpx.AsyncClient) -> None:
    base = netsuite_base(box)
    signer = TBA()
    url = f"{base}{SUITEQL}?limit=5&offset=0"
    body = {"q": "SELECT id FROM transaction"}
    headers = {"Prefer": "transient", "Authorization": signer.header("POST", url)}
    # Signed for offset=0, sent with offset=5: the query is part of the signature.
    tampered = await http.post(f"{base}{SUITEQL}?limit=5&offset=5", json=body, headers=headers)
    assert tampered.status_code == 401
    assert tampered.headers["X-Sandbox-Auth-Failure"] == "signature does not match"
    first = await http.post(url, json=body, headers=headers)
    assert first.status_code == 200
    replay = await http.post(url, json=body, headers=headers)
    assert replay.status_code == 401 and replay.headers["X-Sandbox-Auth-Failure"] == "nonce already used"
    stale_client = TBA().client
    _, stale, _ = stale_client.sign(url, http_method="POST")
    stale_header = re.sub(r'oauth_timestamp="\d+"', f'oauth_timestamp="{int(time.time()) - 3600}"',
                          stale["Authorization"])
    response = await http.post(url, json=body, headers={"Prefer": "transient", "Authorization": stale_header})
    assert response.status_code == 401
    missing = await http.post(url, json=body, headers={"Prefer": "transient"})
    assert missing.status_code == 401 and missing.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"


# --- OAuth 2.0 client credentials ---------------------------------------------------------------

def _keys(kind: str) -> tuple[Any, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "rsa" \
        else ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def _assertion(private: Any, algorithm: str, audience: str, **changes: Any) -> str:
    now = int(time.time())
    claims = {"iss": CREDS.client_id, "scope": ["restlets", "rest_webservices"], "aud": audience,
              "iat": now, "exp": now + 3000}
    claims.update(changes.pop("claims", {}))
    headers = {"kid": changes.pop("kid", CREDS.certificate_id), "typ": "JWT"}
    return jwt.encode(claims, private, algorithm=algorithm, headers=headers)


@pytest.mark.parametrize("kind, algorithm", [("rsa", "PS256"), ("ec", "ES256"), ("rsa", "PS512")])
async def test_client_credentials_token_then_bearer(samples: Dataset, http: httpx.AsyncClient,
                                                    kind: str, algorithm: str) -> None:
    private, public = _keys(kind)
    settings = SETTINGS.with_(netsuite=NetSuiteCredentials(public_key_pem=public))
    async with Sandbox(samples, settings, platforms=("netsuite",)) as box:
        base = netsuite_base(box)
        form = {"grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": _assertion(private, algorithm, f"{base}{TOKEN}")}
        answer = await http.post(f"{base}{TOKEN}", data=form)
        assert answer.status_code == 200, answer.text
        token = answer.json()
        assert token["token_type"] == "bearer" and int(token["expires_in"]) > 0
        bearer = {"Authorization": f"Bearer {token['access_token']}", "Prefer": "transient"}
        response = await http.post(f"{base}{SUITEQL}", json={"q": by_ref("113-2201934-5567102")}, headers=bearer)
        assert response.status_code == 200 and response.json()["count"] == 3
        unknown = await http.post(f"{base}{SUITEQL}", json={"q": "SELECT 1 FROM dual"},
                                  headers={"Authorization": "Bearer not-a-token", "Prefer": "transient"})
        assert unknown.status_code == 401
        assert box.log.entries("netsuite")[0].body is not None
        assert token["access_token"] not in json.dumps([e.to_json() for e in box.log.entries()])


async def test_client_assertions_netsuite_would_refuse(samples: Dataset, http: httpx.AsyncClient) -> None:
    private, public = _keys("rsa")
    stranger, _ = _keys("rsa")
    settings = SETTINGS.with_(netsuite=NetSuiteCredentials(public_key_pem=public))
    async with Sandbox(samples, settings, platforms=("netsuite",)) as box:
        base = netsuite_base(box)
        audience = f"{base}{TOKEN}"
        now = int(time.time())
        cases = {
            "invalid_client": [_assertion(stranger, "PS256", audience), _assertion(private, "PS256", audience, kid="x"),
                               _assertion(private, "PS256", audience, claims={"iss": "someone"})],
            "invalid_grant": [_assertion(private, "PS256", "https://elsewhere.example/token"),
                              _assertion(private, "PS256", audience, claims={"iat": now - 7200, "exp": now - 3600}),
                              _assertion(private, "PS256", audience, claims={"exp": now + 7200})],
            "invalid_scope": [_assertion(private, "PS256", audience, claims={"scope": "restlets"})],
            "invalid_request": ["not.a.jwt", "two.parts"],
        }
        for error, assertions in cases.items():
            for assertion in assertions:
                form = {"grant_type": "client_credentials", "client_assertion": assertion,
                        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
                response = await http.post(f"{base}{TOKEN}", data=form)
                assert (response.status_code, response.json()["error"]) == (400, error), assertion
        wrong_grant = await http.post(f"{base}{TOKEN}", data={"grant_type": "password"})
        assert wrong_grant.json()["error"] == "unsupported_grant_type"


# --- concurrency ---------------------------------------------------------------------------------

async def test_concurrency_limit_per_account(samples: Dataset, http: httpx.AsyncClient) -> None:
    settings = EmulatorSettings(netsuite_concurrency=3)
    app = instrument(make_app(samples, settings, RequestLog(), service_time=0.3), "netsuite", settings, RequestLog())
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        base = str(server.make_url("")).rstrip("/")
        burst = await asyncio.gather(*(suiteql(http, base, "SELECT id FROM transaction") for _ in range(7)))
        statuses = sorted(r.status_code for r in burst)
        assert statuses == [200, 200, 200, 429, 429, 429, 429]
        refused = next(r for r in burst if r.status_code == 429).json()
        assert refused["status"] == 429 and refused["o:errorDetails"][0]["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"
        # Within the limit nobody is refused.
        paced = await asyncio.gather(*(suiteql(http, base, "SELECT id FROM transaction") for _ in range(3)))
        assert [r.status_code for r in paced] == [200, 200, 200]
        emulator = app[NETSUITE_KEY]
        assert emulator.peak_in_flight == 3 and emulator.in_flight == 0  # type: ignore[attr-defined]
    finally:
        await server.close()


# --- the record API ------------------------------------------------------------------------------

def _rehost(value: Any, base: str) -> Any:
    return json.loads(re.sub(r"https://1234567\.suitetalk\.api\.netsuite\.com", base, json.dumps(value)))


async def test_record_api_serves_every_sample_record(box: Sandbox, http: httpx.AsyncClient, samples: Dataset) -> None:
    base = netsuite_base(box)
    served = 0
    for case in samples.cases:
        for name, payload in case.files_for("netsuite"):
            match = re.match(r"netsuite/(salesOrder|itemFulfillment|invoice|cashSale)-(\d+)\.json$", name)
            if not match:
                continue
            response = await http.get(f"{base}{RECORD}/{match.group(1)}/{match.group(2)}",
                                      params={"expandSubResources": "true"}, auth=TBA())
            assert response.status_code == 200, response.text
            assert response.json() == _rehost(payload, base)
            served += 1
    assert served == 27


async def test_record_without_expansion_links_its_sublists(box: Sandbox, http: httpx.AsyncClient) -> None:
    base = netsuite_base(box)
    body = (await http.get(f"{base}{RECORD}/itemfulfillment/20533", auth=TBA())).json()
    assert body["item"] == {"links": [{"rel": "self", "href": f"{base}{RECORD}/itemfulfillment/20533/item"}]}
    assert body["package"]["links"][0]["href"].endswith("/20533/package") and "items" not in body["package"]
    assert body["shipStatus"] == {"id": "C", "refName": "Shipped"}  # reference fields stay
    assert body["createdFrom"]["id"] == "20483"
    sublist = (await http.get(f"{base}{RECORD}/itemFulfillment/20533/package", auth=TBA())).json()
    assert sublist["items"][0]["packageTrackingNumber"] == "1Z999AA10123456785"


@pytest.mark.parametrize("path", [
    "salesOrder/99999", "salesOrder/20533", "invoice/20483", "customer/3101", "salesOrder/not-an-id",
])
async def test_unknown_records_get_netsuites_404(box: Sandbox, http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(f"{netsuite_base(box)}{RECORD}/{path}", auth=TBA())
    assert response.status_code == 404
    body = response.json()
    assert body["title"] == "Not Found" and body["status"] == 404
    assert body["o:errorDetails"][0]["o:errorCode"] == "NONEXISTENT_ID"


@pytest.mark.parametrize("method, path", [
    ("PUT", f"{RECORD}/salesOrder/20482"), ("PATCH", f"{RECORD}/salesOrder/20482"),
    ("DELETE", f"{RECORD}/salesOrder/20482"), ("POST", f"{RECORD}/salesOrder"),
    ("POST", f"{RECORD}/salesOrder/20482/!transform/itemFulfillment"), ("GET", SUITEQL),
])
async def test_writes_are_refused_and_logged(box: Sandbox, http: httpx.AsyncClient, method: str, path: str) -> None:
    url = f"{netsuite_base(box)}{path}"
    response = await http.request(method, url, json={"status": "C"}, auth=TBA())
    assert response.status_code in (404, 405)
    assert response.json()["status"] == response.status_code
    logged = box.log.entries("netsuite")[-1]
    assert (logged.method, logged.status) == (method, response.status_code)
    data = await http.get(f"{netsuite_base(box)}{RECORD}/salesOrder/20482", auth=TBA())
    assert data.json()["orderStatus"]["id"] == "B"


# --- faults -------------------------------------------------------------------------------------

@pytest.mark.parametrize("fault", [f for f in Fault if f is not Fault.THROTTLED])
async def test_each_fault_then_a_retry_gets_the_right_rows(samples: Dataset, fault: Fault) -> None:
    settings = SETTINGS.with_(fault_rate=1.0, faults=(fault,), seed=3, timeout_delay=0.5)
    async with Sandbox(samples, settings, platforms=("netsuite",)) as box, \
            httpx.AsyncClient(timeout=0.25) as http:
        base = netsuite_base(box)
        q = by_ref("113-2201934-5567102")
        try:
            outcome: httpx.Response | Exception = await suiteql(http, base, q)
        except httpx.HTTPError as exc:
            outcome = exc
        if fault is Fault.TIMEOUT:
            assert isinstance(outcome, httpx.TimeoutException)
        elif fault is Fault.DROPPED:
            assert isinstance(outcome, (httpx.RemoteProtocolError, httpx.ReadError))
        else:
            assert isinstance(outcome, httpx.Response)
            expected = {Fault.RATE_LIMITED: 429, Fault.SERVER_ERROR: 500, Fault.UNAVAILABLE: 503,
                        Fault.EXPIRED_TOKEN: 401, Fault.TRUNCATED: 200}[fault]
            assert outcome.status_code == expected
            if fault is Fault.TRUNCATED:
                with pytest.raises(json.JSONDecodeError):
                    json.loads(outcome.text)
            else:
                assert outcome.json()["status"] == expected
        box.set_faults(0.0)
        retry = await suiteql(http, base, q)  # signed afresh, as a client's retry is
        assert retry.status_code == 200, retry.text
        assert [row["tranid"] for row in retry.json()["items"]] == ["SO10483", "IF-8813", "INV-5501"]
        for _ in range(40):  # a held (TIMEOUT) request is logged once the server lets it go
            if any(entry.fault == fault.value for entry in box.log.entries("netsuite")):
                break
            await asyncio.sleep(0.05)
        assert [entry.fault for entry in box.log.entries("netsuite")].count(fault.value) == 1
