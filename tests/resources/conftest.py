"""Real parts for resource and asset tests: S3 (moto), GCS and Azure Blob emulators on 127.0.0.1."""

import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
from cryptography.fernet import Fernet
from moto.server import ThreadedMotoServer

from labelops.resources.object_store import (
    AzureBlobObjectStore,
    GCSObjectStore,
    ObjectStore,
    S3ObjectStore,
)

S3_KEYS = {"access_key_id": "testing", "secret_access_key": "testing"}
AZURITE = Path(__file__).resolve().parents[2] / "build/azurite/node_modules/.bin/azurite-blob"
AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's well-known development account key (public, the same in every Azurite).
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
AZURE_KEYS = {"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The URL of an S3 endpoint served in-process by moto on 127.0.0.1 (a free port)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    try:
        server.start()
    except OSError as exc:
        pytest.fail(f"cannot start moto's S3 server on 127.0.0.1: {exc}", pytrace=False)
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    """A new, empty bucket on the S3 endpoint."""
    name = f"labelops-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_store(s3_endpoint: str, s3_bucket: str) -> S3ObjectStore:
    """An S3ObjectStore on the bucket, keys under no prefix."""
    return S3ObjectStore(bucket=s3_bucket, endpoint_url=s3_endpoint, **S3_KEYS)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            pytest.fail(f"the emulator exited early: {output}", pytrace=False)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nothing listens on 127.0.0.1:{port} after 30 s", pytrace=False)


@pytest.fixture(scope="session")
def gcs_endpoint() -> Iterator[str]:
    """The URL of a Google Cloud Storage emulator (gcp-storage-emulator) on 127.0.0.1."""
    from gcp_storage_emulator.server import create_server

    port = _free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def gcs_bucket(gcs_endpoint: str) -> str:
    """A new, empty bucket on the GCS emulator."""
    name = f"labelops-{uuid.uuid4().hex[:12]}"
    GCSObjectStore(bucket=name, endpoint_url=gcs_endpoint)._gcs().create_bucket(name)
    return name


@pytest.fixture
def gcs_store(gcs_endpoint: str, gcs_bucket: str) -> GCSObjectStore:
    """A GCSObjectStore on the bucket, keys under no prefix."""
    return GCSObjectStore(bucket=gcs_bucket, endpoint_url=gcs_endpoint)


@pytest.fixture(scope="session")
def azure_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The blob service URL of Azurite on 127.0.0.1 (``make azurite`` installs it)."""
    if not AZURITE.is_file():
        pytest.fail(f"Azurite is not installed at {AZURITE}: run `make azurite`", pytrace=False)
    port = _free_port()
    process = subprocess.Popen(
        [
            str(AZURITE),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--location",
            str(tmp_path_factory.mktemp("azurite")),
            "--silent",
            "--skipApiVersionCheck",
            "--loose",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def azure_container(azure_endpoint: str) -> str:
    """A new, empty container on Azurite."""
    name = f"labelops-{uuid.uuid4().hex[:12]}"
    azure_store_of(azure_endpoint, name)._container().create_container()
    return name


def azure_store_of(endpoint: str, container: str) -> AzureBlobObjectStore:
    """Returns an AzureBlobObjectStore of the container with Azurite's account key."""
    return AzureBlobObjectStore(container=container, account_url=endpoint, **AZURE_KEYS)


@pytest.fixture
def azure_store(azure_endpoint: str, azure_container: str) -> AzureBlobObjectStore:
    """An AzureBlobObjectStore on the container, keys under no prefix."""
    return azure_store_of(azure_endpoint, azure_container)


@dataclass(frozen=True)
class Bucket:
    """A bucket on an emulator: its kind, a store to put files with, the connection's fields."""

    kind: str
    store: ObjectStore
    fields: dict[str, str]


@pytest.fixture(params=["s3", "gcs", "azure"])
def bucket(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Bucket:
    """A bucket of each kind on its local emulator, with the connection fields that reach it.

    The emulators listen on 127.0.0.1, so the administrator's allowlists name them (as they would
    an S3-compatible store inside a private network); secrets are stored encrypted.
    """
    kind = request.param
    store: ObjectStore
    if kind == "s3":  # a bucket of its own: the deployment's store is on the s3_store bucket
        endpoint = request.getfixturevalue("s3_endpoint")
        store = S3ObjectStore(
            bucket=f"own-{uuid.uuid4().hex[:12]}", endpoint_url=endpoint, **S3_KEYS
        )
        store._s3().create_bucket(Bucket=store.bucket)
    else:
        store = request.getfixturevalue(f"{kind}_store")
    if isinstance(store, S3ObjectStore):
        endpoint = store.endpoint_url or ""
        fields = {
            "bucket": store.bucket,
            "access_key_id": S3_KEYS["access_key_id"],
            "secret": S3_KEYS["secret_access_key"],
        }
    elif isinstance(store, GCSObjectStore):
        endpoint = store.endpoint_url or ""
        fields = {"bucket": store.bucket}
    else:
        assert isinstance(store, AzureBlobObjectStore)
        endpoint = store.account_url or ""
        fields = {
            "bucket": store.container,
            "access_key_id": store.account_name or "",
            "secret": store.account_key or "",
        }
    monkeypatch.setenv("LABELOPS_STORAGE_ENDPOINT_ALLOWLIST", endpoint)
    monkeypatch.setenv("LABELOPS_OUTBOUND_HOST_ALLOWLIST", urlsplit(endpoint).netloc)
    monkeypatch.setenv("LABELOPS_STORAGE_SECRET_KEY", Fernet.generate_key().decode())
    return Bucket(kind=kind, store=store, fields={**fields, "endpoint_url": endpoint})
