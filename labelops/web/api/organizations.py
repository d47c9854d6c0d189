"""REST endpoints for organizations and their memberships, in Label Studio's shape."""

from typing import Any

from flask import Blueprint, g, jsonify

from labelops.clock import iso
from labelops.db.models import OrganizationMemberRow, OrganizationRow
from labelops.services import organizations as organization_service
from labelops.web.api.auth import api_login_required
from labelops.web.api.params import int_arg
from labelops.web.api.schemas import MembershipIn, MembershipRoleIn, OrganizationIn
from labelops.web.api.serializers import user_json
from labelops.web.api.validation import accepts, read_body
from labelops.web.extensions import db

bp = Blueprint("api_organizations", __name__, url_prefix="/api/organizations")


def organization_json(organization: OrganizationRow) -> dict[str, Any]:
    """Returns an organization as Label Studio's organization JSON."""
    return {
        "id": organization.id,
        "title": organization.title,
        "created_at": iso(organization.created_at),
    }


def membership_json(member: OrganizationMemberRow) -> dict[str, Any]:
    """Returns a membership as Label Studio's organization member JSON."""
    return {
        "id": member.id,
        "organization": member.organization_id,
        "user": user_json(member.user),
        "role": member.role,
        "created_at": iso(member.created_at),
    }


@bp.get("")
@api_login_required
def list_organizations() -> Any:
    """Lists the organizations the caller belongs to."""
    rows = organization_service.organizations_of(db.session, g.user)
    return jsonify([organization_json(o) for o in rows])


@bp.post("")
@api_login_required
@accepts(OrganizationIn)
def create_organization() -> Any:
    """Creates an organization ``{"title": str}`` with the caller as admin (instance admins)."""
    title = read_body().title
    organization = organization_service.create_organization(
        db.session, title, by=g.user, admin=g.user
    )
    db.session.commit()
    return jsonify(organization_json(organization)), 201


@bp.get("/<int:organization_id>")
@api_login_required
def get_organization(organization_id: int) -> Any:
    """Returns one of the caller's organizations (404 for any other)."""
    organization = organization_service.visible_organization(db.session, g.user, organization_id)
    return jsonify(organization_json(organization))


@bp.post("/<int:organization_id>/switch")
@api_login_required
def switch(organization_id: int) -> Any:
    """Makes one of the caller's organizations their active one (their tokens act there)."""
    organization = organization_service.switch_organization(db.session, g.user, organization_id)
    db.session.commit()
    return jsonify(organization_json(organization))


@bp.get("/<int:organization_id>/memberships")
@api_login_required
def list_memberships(organization_id: int) -> Any:
    """Lists the organization's members, paged as Label Studio's DRF pagination."""
    organization = organization_service.visible_organization(db.session, g.user, organization_id)
    page = int_arg("page", 1, minimum=1)
    page_size = int_arg("page_size", 100, minimum=1, maximum=1000)
    result = organization_service.members(db.session, organization, page=page, page_size=page_size)
    return jsonify(
        {
            "count": result.total,
            "next": None,
            "previous": None,
            "results": [membership_json(m) for m in result.members],
        }
    )


@bp.post("/<int:organization_id>/memberships")
@api_login_required
@accepts(MembershipIn)
def add_membership(organization_id: int) -> Any:
    """Adds a user by email ``{"email": str, "role"?: "admin" | "member"}`` (organization admins).

    An organization admin who is not an instance administrator gets 202 and the same body
    whether or not the account exists (no account enumeration).
    """
    organization = organization_service.visible_organization(db.session, g.user, organization_id)
    body = read_body()
    email, role = body.email, body.role
    member = organization_service.add_member(
        db.session, organization, email=email, role=role, by=g.user
    )
    db.session.commit()
    if member is None or not g.user.is_admin:
        return jsonify(
            {
                "detail": f"if {email} has an account, they are now a member of this organization",
                "email": email,
                "role": role,
            }
        ), 202
    return jsonify(membership_json(member)), 201


@bp.patch("/<int:organization_id>/memberships")
@api_login_required
@accepts(MembershipRoleIn)
def change_membership(organization_id: int) -> Any:
    """Changes a member's role ``{"user_id": int, "role": "admin" | "member"}`` (org admins)."""
    organization = organization_service.visible_organization(db.session, g.user, organization_id)
    body = read_body()
    user_id, role = body.user_id, body.role
    member = organization_service.change_role(db.session, organization, user_id, role, by=g.user)
    db.session.commit()
    return jsonify(membership_json(member))


@bp.delete("/<int:organization_id>/memberships/<int:user_id>")
@api_login_required
def remove_membership(organization_id: int, user_id: int) -> Any:
    """Removes a member (organization admins, or the member leaving); 204."""
    organization = organization_service.visible_organization(db.session, g.user, organization_id)
    organization_service.remove_member(db.session, organization, user_id, by=g.user)
    db.session.commit()
    return "", 204
