"""/api/openapi.json publishes the same schemas and query parameters the endpoints validate with."""

from flask import Flask
from flask.testing import FlaskClient

from labelops.web.api.schemas import AnnotationIn, ProjectIn, TaskIn
from labelops.web.api.validation import spec_of

BODYLESS = {
    ("POST", "/api/current-user/reset-token"),
    ("POST", "/api/projects/{project_id}/pipeline/{action}"),
    ("POST", "/api/organizations/{organization_id}/switch"),
    # a storage sync takes no body, in Label Studio's API too
    *(
        ("POST", f"/api/storages/{target}{kind}/{{storage_id}}/sync")
        for target in ("", "export/")
        for kind in ("s3", "gcs", "azure", "localfiles")
    ),
}


def test_every_body_taking_operation_documents_its_request_body(
    app: Flask, client: FlaskClient
) -> None:
    doc = client.get("/api/openapi.json").json
    components = doc["components"]["schemas"]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if method.upper() not in ("POST", "PUT", "PATCH"):
                continue
            if (method.upper(), path) in BODYLESS:
                assert "requestBody" not in operation, (method, path)
                continue
            assert "requestBody" in operation, (method, path)
            for media in operation["requestBody"]["content"].values():
                assert media["schema"], (method, path)
    assert components["ProjectIn"]["additionalProperties"] is False
    assert components["TaskIn"] == TaskIn.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    annotation = doc["paths"]["/api/tasks/{task_id}/annotations"]["post"]["requestBody"]
    assert annotation["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AnnotationIn"
    }
    assert (
        components["AnnotationIn"]["properties"]["lead_time"]
        == (AnnotationIn.model_json_schema()["properties"]["lead_time"])
    )
    project = doc["paths"]["/api/projects"]["post"]["requestBody"]["content"]
    assert set(project) == {
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }
    assert "ProjectIn" in project["application/json"]["schema"]["$ref"]
    assert set(ProjectIn.model_fields) <= set(components["ProjectIn"]["properties"])


def test_query_parameters_and_path_ids_are_bounded_in_the_document(client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").json
    listing = doc["paths"]["/api/projects/{project_id}/tasks"]["get"]["parameters"]
    by_name = {p["name"]: p for p in listing}
    assert by_name["project_id"]["schema"]["maximum"] == 2**63 - 1
    assert by_name["page"]["schema"]["maximum"] == 10_000_000
    assert by_name["limit"]["schema"]["maximum"] == 1000
    assert by_name["direction"]["schema"]["enum"] == ["asc", "desc"]
    assert {"cursor", "state", "min_score", "contains"} <= set(by_name)


def test_views_that_read_a_body_declare_its_schema(app: Flask) -> None:
    declared = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        and (spec := spec_of(app.view_functions[rule.endpoint])) is not None
        and spec.schema is not None
    }
    assert {
        "api_projects.create_project",
        "api_projects.update_project",
        "api_tasks.create_task",
        "api_tasks.update_task",
        "api_tasks.create_annotation",
        "api_tasks.update_annotation",
        "api_tasks.review_annotation",
        "api_tasks.create_predictions",
        "api_projects.import_predictions",
        "api_projects.add_member",
        "api_users.create_user",
        "api_pipeline.create_storage",
    } <= declared
