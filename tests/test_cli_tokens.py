"""focal token create/list/revoke against the catalog in FOCAL_DATA_DIR."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from focal.catalog import HostedCatalog, open_catalog
from focal.cli import app

runner = CliRunner()


def focal(data_dir: Path, *args: str) -> tuple[int, str, str]:
    env = {"FOCAL_DATA_DIR": str(data_dir), "FOCAL_CATALOG_URL": None, "FOCAL_CONFIG": None}
    result = runner.invoke(app, ["token", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def catalog_in(data_dir: Path) -> HostedCatalog:
    return HostedCatalog(open_catalog(f"sqlite:///{data_dir / 'focal.db'}"))


def test_create_prints_the_secret_once_and_keeps_only_its_hash(tmp_path: Path) -> None:
    code, out, _ = focal(tmp_path, "create", "ci")
    assert code == 0
    token_id = re.search(r"created token ([0-9a-f]{32}) \(ci\)", out)
    assert token_id is not None
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("focal_") and len(secret) > 40
    catalog = catalog_in(tmp_path)
    assert catalog.check_token(secret)
    catalog.engine.dispose()
    for path in tmp_path.glob("focal.db*"):
        assert secret.encode() not in path.read_bytes()

    code, listing, _ = focal(tmp_path, "list")
    assert code == 0
    assert token_id.group(1) in listing and "ci" in listing and "active" in listing
    assert secret not in listing


def test_revoke_stops_a_token(tmp_path: Path) -> None:
    _, out, _ = focal(tmp_path, "create", "laptop")
    token_id = re.search(r"created token (\w+)", out).group(1)  # type: ignore[union-attr]
    secret = out.strip().splitlines()[-1]
    code, out, _ = focal(tmp_path, "revoke", token_id)
    assert code == 0 and f"revoked token {token_id}" in out
    catalog = catalog_in(tmp_path)
    assert not catalog.check_token(secret)
    catalog.engine.dispose()
    _, listing, _ = focal(tmp_path, "list")
    assert "revoked" in listing and "active" not in listing

    code, _, err = focal(tmp_path, "revoke", token_id)
    assert code == 1 and "no active token" in err
    code, _, err = focal(tmp_path, "revoke", "does-not-exist")
    assert code == 1 and "no active token with id does-not-exist" in err


def test_list_when_empty_and_bad_names(tmp_path: Path) -> None:
    code, out, _ = focal(tmp_path, "list")
    assert code == 0 and "no tokens" in out
    code, _, err = focal(tmp_path, "create", "   ")
    assert code == 2 and "1 to 100 characters" in err
    _, out, _ = focal(tmp_path, "list")
    assert "no tokens" in out


def test_create_with_a_name_in_use_says_so(tmp_path: Path) -> None:
    _, out, _ = focal(tmp_path, "create", "ci")
    token_id = re.search(r"created token (\w+)", out).group(1)  # type: ignore[union-attr]
    code, out, err = focal(tmp_path, "create", " ci ")
    assert code == 2
    assert "a token named 'ci' exists already" in err and token_id in err
    assert "focal token revoke" in err and "created token" not in out
    assert len(catalog_in(tmp_path).list_tokens()) == 1
    assert focal(tmp_path, "revoke", token_id)[0] == 0  # revoked: its name is free again
    assert focal(tmp_path, "create", "ci")[0] == 0
