import json
from pathlib import Path

import pytest

from labelops.resources.object_store import (
    AzureBlobObjectStore,
    GCSObjectStore,
    LocalObjectStore,
    ObjectStore,
    S3ObjectStore,
    StorageLocation,
)


@pytest.fixture(params=["s3", "gcs", "azure", "local"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param != "local":
        return request.getfixturevalue(f"{request.param}_store")
    return LocalObjectStore(root=str(tmp_path / "objects"))


def test_put_list_open_and_exists_round_trip(store: ObjectStore) -> None:
    store.put_bytes("in/b.jsonl", b'{"text": "b"}\n')
    store.put_json("in/a.json", [{"text": "a"}])
    store.put_bytes("other/c.csv", b"text\nc\n")

    listed = store.list_objects("in/")

    assert [o.key for o in listed] == ["in/a.json", "in/b.jsonl"]
    assert all(o.etag and o.size > 0 for o in listed)
    assert json.loads(store.read_bytes("in/a.json")) == [{"text": "a"}]
    assert store.exists("other/c.csv")
    assert not store.exists("other/missing.csv")
    with pytest.raises(FileNotFoundError):
        store.open("other/missing.csv")


def test_etag_changes_when_the_object_changes(store: ObjectStore) -> None:
    store.put_bytes("x.json", b"[1]")
    first = store.list_objects()[0].etag
    store.put_bytes("x.json", b"[2]")

    assert store.list_objects()[0].etag != first


def test_a_connection_store_sees_keys_relative_to_its_prefix(store: ObjectStore) -> None:
    store.put_bytes("projects/1/tasks.json", b"[]")
    store.put_bytes("projects/2/tasks.json", b"[]")

    store.put_bytes("projects/10/tasks.json", b"[]")

    scoped = store.at(StorageLocation(kind="local", prefix="projects/1"))

    assert [o.key for o in scoped.list_objects()] == ["tasks.json"]
    assert scoped.uri("tasks.json").endswith("projects/1/tasks.json")


def test_s3_uri_names_bucket_and_prefix(s3_store: S3ObjectStore) -> None:
    scoped = s3_store.at(StorageLocation(kind="local", prefix="p"))
    assert scoped.uri("k.json") == f"s3://{s3_store.bucket}/p/k.json"


def test_local_store_refuses_keys_that_leave_its_root(tmp_path: Path) -> None:
    store = LocalObjectStore(root=str(tmp_path))
    with pytest.raises(ValueError, match="leaves the store's root"):
        store.put_bytes("../escape.txt", b"x")


def test_gcs_and_azure_uris_name_their_scheme_bucket_and_prefix(
    gcs_store: GCSObjectStore, azure_store: AzureBlobObjectStore
) -> None:
    gcs = gcs_store.at(StorageLocation(kind="local", prefix="p"))
    azure = azure_store.at(StorageLocation(kind="local", prefix="p"))

    assert gcs.uri("k.json") == f"gs://{gcs_store.bucket}/p/k.json"
    assert azure.uri("k.json") == f"azure-blob://{azure_store.container}/p/k.json"


def test_a_connection_of_each_bucket_kind_reads_its_own_bucket(
    tmp_path: Path,
    s3_store: S3ObjectStore,
    gcs_store: GCSObjectStore,
    azure_store: AzureBlobObjectStore,
) -> None:
    deployment = LocalObjectStore(root=str(tmp_path / "objects"))
    s3_store.put_bytes("in/s3.json", b"[]")
    gcs_store.put_bytes("in/gcs.json", b"[]")
    azure_store.put_bytes("in/azure.json", b"[]")
    locations = {
        "s3": StorageLocation(
            kind="s3",
            bucket=s3_store.bucket,
            prefix="in",
            endpoint_url=s3_store.endpoint_url or "",
            access_key_id="testing",
            secret_access_key="testing",
        ),
        "gcs": StorageLocation(
            kind="gcs", bucket=gcs_store.bucket, prefix="in", endpoint_url=gcs_store.endpoint_url
        ),
        "azure": StorageLocation(
            kind="azure",
            bucket=azure_store.container,
            prefix="in",
            endpoint_url=azure_store.account_url or "",
            access_key_id=azure_store.account_name or "",
            secret_access_key=azure_store.account_key or "",
        ),
    }

    listed = {kind: deployment.at(loc).list_objects() for kind, loc in locations.items()}

    assert {kind: [o.key for o in objs] for kind, objs in listed.items()} == {
        "s3": ["s3.json"],
        "gcs": ["gcs.json"],
        "azure": ["azure.json"],
    }
    assert deployment.at(locations["gcs"]).uri("gcs.json").startswith("gs://")
    assert deployment.at(locations["azure"]).uri("azure.json").startswith("azure-blob://")
