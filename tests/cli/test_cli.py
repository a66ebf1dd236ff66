"""The command line: importing, the audit table and JSON contract, exit codes, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cache.store import Cache
from tui.cli import main
from tui.ingest import bundled_scenarios

SCENARIOS = bundled_scenarios()
ALL = sorted(p.parent for p in SCENARIOS.glob("*/scenario.toml"))


def write_config(folder: Path, extra: str = "") -> Path:
    config = folder / "threetruth.toml"
    config.write_text(f'[cache]\npath = "cache.db"\n{extra}', encoding="utf-8")
    return config


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.delenv("THREETRUTH_CONFIG", raising=False)
    return write_config(tmp_path)


@pytest.fixture
def imported(config, capsys):
    assert main(["import", str(SCENARIOS), "--config", str(config)]) == 0
    capsys.readouterr()
    return config


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_reports_what_it_imported(config, capsys):
    code, out, err = run(capsys, "import", str(SCENARIOS), "--config", str(config))
    assert code == 0, err
    assert f"Imported {len(ALL)} cases" in out


def test_audit_json_follows_the_contract(imported, capsys):
    code, out, _ = run(capsys, "audit", "--format", "json", "--config", str(imported))
    assert code == 1  # the samples have findings
    doc = json.loads(out)
    assert set(doc) >= {"as_of", "cases"}
    assert len(doc["cases"]) == len(ALL)
    for case in doc["cases"]:
        assert set(case) >= {"case", "verdict", "systems", "findings", "first_divergence"}
        assert case["verdict"] in {"mismatch", "missing_record", "missing_handoff", "delay", "in_sync"}
        for system in case["systems"].values():
            assert set(system) >= {"role", "ref", "native_status", "fulfillment", "financial"}
            if system["ref"] is None:
                assert system["fulfillment"] is None and system["financial"] is None
        for finding in case["findings"]:
            assert set(finding) >= {"rule", "kind", "handoff", "at", "events", "message"}
            assert finding["handoff"] is None or set(finding["handoff"]) == {"from", "to"}
        if case["verdict"] == "in_sync":
            assert case["first_divergence"] is None
        else:
            assert set(case["first_divergence"]) >= {"at", "system", "event", "handoff", "rule"}
    cascade = next(c for c in doc["cases"] if c["case"] == "113-4519876-3382210")
    assert cascade["first_divergence"]["handoff"] == {"from": "amazon", "to": "netsuite"}
    assert cascade["first_divergence"]["rule"] == "out-of-sequence"
    assert cascade["first_divergence"]["at"] == "2026-03-03T14:02:00Z"


def test_audit_of_one_healthy_case_exits_zero(imported, capsys):
    code, out, _ = run(capsys, "audit", "--case", "113-2201934-5567102", "--config", str(imported))
    assert code == 0
    assert "IN_SYNC" in out


def test_a_case_is_found_by_any_systems_ref(imported, capsys):
    code, out, _ = run(capsys, "audit", "--case", "SO10482", "--format", "json", "--config", str(imported))
    assert code == 1
    assert [c["case"] for c in json.loads(out)["cases"]] == ["113-4519876-3382210"]


def test_as_of_moves_a_delay_to_a_missing_handoff(imported, capsys):
    ref = "113-3344556-7788990"  # 15-in-flight-shipment
    _, now, _ = run(capsys, "audit", "--case", ref, "--format", "json", "--config", str(imported))
    _, later, _ = run(capsys, "audit", "--case", ref, "--format", "json", "--as-of", "2026-03-04T12:00:00Z", "--config", str(imported))
    assert json.loads(now)["cases"][0]["verdict"] == "delay"
    assert json.loads(later)["cases"][0]["verdict"] == "missing_handoff"
    assert json.loads(later)["as_of"] == "2026-03-04T12:00:00Z"


def test_cases_lists_one_line_per_case_with_its_verdict(imported, capsys):
    code, out, _ = run(capsys, "cases", "--config", str(imported))
    lines = out.strip().splitlines()
    assert code == 1
    assert lines[0].startswith("CASE")
    assert len(lines) == 1 + len(ALL)
    assert any("113-4519876-3382210" in line and "mismatch" in line for line in lines)
    _, only, _ = run(capsys, "cases", "--verdict", "in_sync", "--config", str(imported))
    assert all("in_sync" in line for line in only.strip().splitlines()[1:])
    _, by_rule, _ = run(capsys, "cases", "--rule", "duplicate-record", "--config", str(imported))
    assert len(by_rule.strip().splitlines()) == 2
    # A system that was asked and holds nothing does not hold the case (as in the explorer's filter).
    _, held, _ = run(capsys, "cases", "--system", "netsuite", "--config", str(imported))
    assert "113-6677889-0011223" in out and "113-6677889-0011223" not in held
    assert len(held.strip().splitlines()) == len(lines) - 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["audit", "--case", "no-such-order"], "no cached case matches"),
        (["audit", "--as-of", "yesterday"], "not an ISO-8601"),
        (["audit", "--as-of", "2026-03-04T12:00:00"], "needs a UTC offset"),
        (["import", "/no/such/path"], "no such file or folder"),
    ],
)
def test_usage_errors_exit_two_with_one_line(imported, capsys, argv, message):
    code, _, err = run(capsys, *argv, "--config", str(imported))
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_a_malformed_payload_is_named_the_rest_imports_and_nothing_cached_is_lost(imported, tmp_path, capsys):
    batch = tmp_path / "batch"
    for name in ("02-healthy-order", "05-cancel-vs-ship"):
        shutil.copytree(SCENARIOS / name, batch / name)
    broken = batch / "05-cancel-vs-ship" / "amazon" / "getOrder.json"
    broken.write_text(broken.read_text()[:200], encoding="utf-8")  # a truncated download
    with Cache.open(tmp_path / "cache.db") as cache:
        before = cache.load_case("113-5582910-4471623")
    code, out, err = run(capsys, "import", str(batch), "--config", str(imported))
    assert code == 2
    assert "Imported 1 case" in out
    assert len(err.strip().splitlines()) == 1
    assert "05-cancel-vs-ship/amazon/getOrder.json" in err and "not valid JSON" in err
    with Cache.open(tmp_path / "cache.db") as cache:
        assert cache.load_case("113-5582910-4471623") == before
        assert cache.count_cases() == len(ALL)


def test_loose_response_files_are_grouped_into_their_case(config, tmp_path, capsys):
    loose = tmp_path / "loose"
    loose.mkdir()
    for system, file in (("amazon", "getOrder.json"), ("shopify", "order.json")):
        shutil.copy(SCENARIOS / "01-classic-cascade" / system / file, loose / f"{system}-{file}")
    code, out, err = run(capsys, "import", str(loose), "--config", str(config))
    assert code == 0, err
    assert "Imported 1 case" in out
    _, table, _ = run(capsys, "audit", "--format", "json", "--config", str(config))
    (case,) = json.loads(table)["cases"]
    assert case["case"] == "113-4519876-3382210"
    assert case["systems"]["shopify"]["ref"] == "#1042"


def test_a_file_no_platform_recognises_is_named(config, tmp_path, capsys):
    stray = tmp_path / "stray.json"
    stray.write_text('{"hello": "world"}', encoding="utf-8")
    code, _, err = run(capsys, "import", str(stray), "--config", str(config))
    assert code == 2
    assert "stray.json: not a response of any known platform" in err


def test_no_command_fetches_the_samples_from_the_sandbox_and_shows_the_same_audit(config, tmp_path, capsys):
    code, out, err = run(capsys, "--config", str(config))
    assert code == 1, err
    assert "fetching the sample orders from the sandbox" in out
    assert f"{len(ALL)} cases:" in out
    code, again, _ = run(capsys, "--config", str(config))
    assert "fetching" not in again  # a second run audits what is cached
    # Fetched live, the scenarios audit exactly as their captured payloads do.
    (tmp_path / "offline").mkdir()
    offline = write_config(tmp_path / "offline")
    assert run(capsys, "import", "--samples", "--config", str(offline))[0] == 0
    live_doc = json.loads(run(capsys, "audit", "--format", "json", "--config", str(config))[1])
    offline_doc = json.loads(run(capsys, "audit", "--format", "json", "--config", str(offline))[1])

    def verdicts(doc):
        return {c["case"]: (c["verdict"], sorted(f["rule"] for f in c["findings"]),
                            (c["first_divergence"] or {}).get("handoff")) for c in doc["cases"]}

    assert verdicts(live_doc) == verdicts(offline_doc)


def test_the_config_can_come_from_the_environment(tmp_path, capsys, monkeypatch):
    config = write_config(tmp_path)
    monkeypatch.setenv("THREETRUTH_CONFIG", str(config))
    code, out, _ = run(capsys, "import", str(SCENARIOS / "02-healthy-order"))
    assert code == 0
    assert str(tmp_path / "cache.db") in out


@pytest.mark.parametrize(
    "extra, message",
    [
        ('[systems.shopify]\nrole = "storefront"\nplatform = "shopify"\naccess_token = "shpat_123"\n', "write secrets as env:"),
        ('[systems.shopify]\nrole = "storefront"\nplatform = "shopify"\nbase_url = "http://acme.myshopify.com"\n', "must be https://"),
        ('[systems.shopify]\nrole = "shop"\nplatform = "shopify"\n', "role must be one of"),
        ('[audit]\nsync_tolerance = "soon"\n', "not a duration"),
        ("[cache\n", "not valid TOML"),
    ],
)
def test_bad_config_is_one_clear_line(tmp_path, capsys, extra, message):
    config = write_config(tmp_path, extra)
    code, _, err = run(capsys, "cases", "--config", str(config))
    assert code == 2
    assert message in err
    assert "shpat_123" not in err  # never echo what looks like a secret


def test_loopback_http_is_allowed_for_the_sandbox(tmp_path, capsys):
    config = write_config(tmp_path, '[systems.shopify]\nrole = "storefront"\nplatform = "shopify"\nbase_url = "http://127.0.0.1:8081"\n')
    assert run(capsys, "cases", "--config", str(config))[0] == 0


def test_credentials_never_enter_the_cache(tmp_path, capsys, monkeypatch):
    secrets = {"SHOPIFY_ACCESS_TOKEN": "shpat_SECRET_ONE", "LWA_CLIENT_SECRET": "amzn_SECRET_TWO", "NS_TOKEN_SECRET": "ns_SECRET_THREE"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    config = write_config(
        tmp_path,
        '[systems.shopify]\nrole = "storefront"\nplatform = "shopify"\naccess_token = "env:SHOPIFY_ACCESS_TOKEN"\n'
        '[systems.amazon]\nrole = "marketplace"\nplatform = "amazon"\nclient_secret = "env:LWA_CLIENT_SECRET"\n'
        '[systems.netsuite]\nrole = "erp"\nplatform = "netsuite"\ntoken_secret = "env:NS_TOKEN_SECRET"\n',
    )
    assert run(capsys, "import", str(SCENARIOS), "--config", str(config))[0] == 0
    _, out, err = run(capsys, "audit", "--format", "json", "--config", str(config))
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("cache.db*"))
    for value in secrets.values():
        assert value.encode() not in stored
        assert value not in out + err


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(ALL), min_size=1, max_size=5, unique=True))
def test_importing_twice_changes_nothing(tmp_path_factory, folders):
    folder = tmp_path_factory.mktemp("twice")
    config = write_config(folder)
    assert main(["import", *map(str, folders), "--config", str(config)]) == 0
    main(["audit", "--config", str(config)])
    with Cache.open(folder / "cache.db") as cache:
        first = list(cache.db.conn.iterdump())
    assert main(["import", *map(str, reversed(folders)), "--config", str(config)]) == 0
    with Cache.open(folder / "cache.db") as cache:
        assert list(cache.db.conn.iterdump()) == first


def test_fetch_prints_a_line_per_case_found_and_one_problem_line_for_a_ref_nobody_holds(tmp_path, capsys, monkeypatch):
    from sandbox.core import EmulatorSettings
    from sandbox.data import Dataset
    from sandbox.server import Sandbox
    from tui.demo import sandbox_config_text, sandbox_environment

    settings = EmulatorSettings(time_scale=1000.0)
    with Sandbox(Dataset.from_samples(), settings) as box:
        for variable, value in sandbox_environment(settings).items():
            monkeypatch.setenv(variable, value)
        config = write_config(tmp_path, "\n" + sandbox_config_text(box.urls, settings))
        code, out, err = run(capsys, "fetch", "#1042", "#9999", "--config", str(config))
    assert code == 2  # a ref nobody holds is an input problem
    assert out.splitlines() == ["113-4519876-3382210: amazon 113-4519876-3382210; netsuite SO10482; shopify #1042",
                                "1 case: 1 mismatch"]
    assert err.splitlines() == ["threetruth: #9999: no configured system holds an order with this ref"]
