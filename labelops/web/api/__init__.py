"""The REST API, following Label Studio's paths and JSON so its SDK and scripts work unchanged."""

from labelops.web.api.comments import bp as comments_bp
from labelops.web.api.drafts import bp as drafts_bp
from labelops.web.api.exports import bp as exports_bp
from labelops.web.api.feature_flags import bp as feature_flags_bp
from labelops.web.api.imports import bp as imports_bp
from labelops.web.api.ml import bp as ml_bp
from labelops.web.api.openapi import bp as openapi_bp
from labelops.web.api.organizations import bp as organizations_bp
from labelops.web.api.params import check_query_args
from labelops.web.api.pipeline import bp as pipeline_bp
from labelops.web.api.projects import bp as projects_bp
from labelops.web.api.storages import bp as storages_bp
from labelops.web.api.tasks import bp as tasks_bp
from labelops.web.api.users import bp as users_bp
from labelops.web.api.version import bp as version_bp
from labelops.web.api.webhooks import bp as webhooks_bp
from labelops.web.api.workflow import bp as workflow_bp

BLUEPRINTS = (
    projects_bp,
    tasks_bp,
    users_bp,
    openapi_bp,
    pipeline_bp,
    feature_flags_bp,
    workflow_bp,
    organizations_bp,
    exports_bp,
    imports_bp,
    webhooks_bp,
    version_bp,
    drafts_bp,
    storages_bp,
    ml_bp,
    comments_bp,
)
for _blueprint in BLUEPRINTS:
    _blueprint.before_request(check_query_args)
