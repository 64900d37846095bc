"""Connections: verified TLS, IAM auth tokens, bounded waits; the shipped trust anchors."""
from __future__ import annotations

import contextlib
import datetime
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from unittest import mock

import boto3
import pg8000.native
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

pytest.register_assert_rewrite("tests.pdf_pipeline.postgres")  # imported here before pytest_plugins loads it

from lambda_src.pdf_pipeline import settings as env  # noqa: E402
from lambda_src.pdf_pipeline.db import connection  # noqa: E402
from lambda_src.pdf_pipeline.settings import Settings  # noqa: E402

pytest_plugins = ["tests.pdf_pipeline.postgres"]

PROXY = "pdf-pipeline.proxy-abcdefghijkl.us-east-1.rds.amazonaws.com"


# --- the trust anchors ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def anchors() -> list[x509.Certificate]:
    with warnings.catch_warnings():
        # Starfield Services Root G2 (2009) has serial number 0, which RFC 5280 later disallowed;
        # OpenSSL and Mozilla's store take it, cryptography warns.
        warnings.filterwarnings("ignore", "Parsed a serial number which wasn't positive")
        return x509.load_pem_x509_certificates(connection.TRUST_ANCHORS.read_bytes())


def _common_names(certificates) -> set[str]:
    return {certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value for certificate in certificates}


def test_every_trust_anchor_is_a_self_signed_ca_valid_now(anchors):
    now = datetime.datetime.now(datetime.timezone.utc)
    assert len(anchors) == 92
    for certificate in anchors:
        assert certificate.issuer == certificate.subject
        assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
        assert certificate.not_valid_before_utc <= now < certificate.not_valid_after_utc


def test_the_anchors_hold_the_amazon_trust_services_roots_for_rds_proxy(anchors):
    assert {"Amazon Root CA 1", "Amazon Root CA 2", "Amazon Root CA 3", "Amazon Root CA 4",
            "Starfield Services Root Certificate Authority - G2"} <= _common_names(anchors)


def test_the_anchors_hold_the_rds_roots_of_each_region_for_the_cluster_endpoints(anchors):
    names = _common_names(anchors)
    for region in ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "sa-east-1"):
        assert {f"Amazon RDS {region} Root CA {kind} G1" for kind in ("RSA2048", "RSA4096", "ECC384")} <= names


def test_the_first_anchor_to_expire_does_so_after_2037(anchors):
    assert min(certificate.not_valid_after_utc for certificate in anchors).year >= 2037


def test_the_tls_context_verifies_chain_and_host_name_with_tls_1_2_or_newer():
    context = connection.tls_context()
    assert (context.verify_mode, context.check_hostname, context.minimum_version) == (
        ssl.CERT_REQUIRED, True, ssl.TLSVersion.TLSv1_2)
    assert context.cert_store_stats()["x509_ca"] == 92  # the anchors only, not the system store


# --- TLS against the local server -----------------------------------------------------------

def test_a_connection_is_encrypted(postgres):
    with contextlib.closing(postgres.connect()) as admin:
        assert admin.run("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == [[True]]


def test_a_server_whose_certificate_no_anchor_vouches_for_is_refused(postgres):
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        connection.connect(postgres.settings("postgres"), password=postgres.admin_password)


def test_a_server_certificate_for_another_host_name_is_refused(postgres):
    settings = Settings.from_environ({**postgres.settings("postgres").environ, env.DB_HOST: "127.0.0.1"})
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        connection.connect(settings, password=postgres.admin_password, ssl_context=postgres.tls_context())


# --- IAM auth tokens ------------------------------------------------------------------------

class RecordingTokenSource:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[dict] = []

    def generate_db_auth_token(self, **arguments) -> str:
        self.calls.append(arguments)
        return self.token


def test_without_a_password_the_iam_token_is_the_password(postgres, database):
    with contextlib.closing(postgres.connect(database)) as admin:
        admin.run("CREATE ROLE token_user LOGIN PASSWORD 'the-token'")
    tokens = RecordingTokenSource("the-token")
    try:
        with contextlib.closing(connection.connect(postgres.settings(database, "token_user"), rds=tokens,
                                                   ssl_context=postgres.tls_context())) as app:
            assert app.run("SELECT current_user") == [["token_user"]]
    finally:
        with contextlib.closing(postgres.connect(database)) as admin:
            admin.run("DROP ROLE token_user")
    assert tokens.calls == [{"DBHostname": "localhost", "Port": postgres.port, "DBUsername": "token_user",
                             "Region": "us-east-1"}]


def test_boto3_computes_the_auth_token_locally_without_any_request():
    settings = Settings.from_environ({env.DB_HOST: PROXY, env.DB_PORT: "5432", env.DB_NAME: "audit",
                                      env.DB_USER: "pipeline_app", env.AWS_REGION: "us-east-1"})
    with mock.patch.object(socket, "create_connection", side_effect=AssertionError("no network")), \
            mock.patch.object(socket.socket, "connect", side_effect=AssertionError("no network")):
        token = connection.iam_auth_token(settings, rds=boto3.client("rds", region_name="us-east-1"))
    assert token.startswith(f"{PROXY}:5432/?Action=connect&DBUser=pipeline_app&")
    assert "X-Amz-Expires=900" in token and "X-Amz-Signature=" in token and "://" not in token


# --- bounded waits --------------------------------------------------------------------------

@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    for peer in accepted:
        peer.close()
    listener.close()


def test_a_server_that_never_answers_fails_the_connection_within_its_timeout(silent_server):
    settings = Settings.from_environ({env.DB_HOST: "127.0.0.1", env.DB_PORT: str(silent_server),
                                      env.DB_NAME: "audit", env.DB_USER: "pipeline_app"})
    started = time.monotonic()
    with pytest.raises(connection.DatabaseUnavailable, match="timed out"):
        connection.connect(settings, password="x", timeout_s=1.0)
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(("left", "expected"), [(30.0, 10.0), (6.0, 4.0), (2.5, 1.0), (-5.0, 1.0)])
def test_the_socket_timeout_leaves_the_reserve_to_answer(left, expected):
    assert connection.timeout_for(left, reserve_s=2.0) == expected


def test_a_reused_connection_is_kept_until_discarded_then_opened_again(postgres):
    opened: list[pg8000.native.Connection] = []
    reused = connection.Reused(lambda: postgres.settings("postgres"), password=postgres.admin_password,
                               ssl_context=postgres.tls_context())
    original = connection.connect

    def counting_connect(*args, **kwargs):
        opened.append(original(*args, **kwargs))
        return opened[-1]

    with mock.patch.object(connection, "connect", counting_connect):
        first = reused.get(timeout_s=5)
        assert reused.get(timeout_s=5) is first
        reused.discard()
        second = reused.get(timeout_s=5)
        assert second is not first and second.run("SELECT 1") == [[1]]
        reused.discard()
    assert len(opened) == 2


# --- packaging ------------------------------------------------------------------------------

def test_every_database_function_imports_as_lambda_bundles_it_with_its_anchors():
    """Lambda imports ``pdf_pipeline.<function>.handler`` with lambda_src/pdf_pipeline's parent
    on the path; the trust anchors and migrations are files of the package, found from it."""
    root = Path(__file__).resolve().parents[2] / "lambda_src"
    script = ("import importlib, pathlib\n"
              "for name in ('write_audit', 'batch_status', 'reports', 'migrate'):\n"
              "    importlib.import_module(f'pdf_pipeline.{name}.handler')\n"
              "from pdf_pipeline.db import connection, migration_files\n"
              "assert connection.TRUST_ANCHORS.is_file() and len(migration_files.load_migrations()) >= 2\n"
              "print('ok')\n")
    environment = {**os.environ, "PYTHONPATH": str(root), "AWS_REGION": "us-east-1",
                   "POWERTOOLS_METRICS_NAMESPACE": "PdfPipeline"}
    result = subprocess.run([sys.executable, "-c", script], cwd=root, env=environment,
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr[-2000:]
