"""A person signs in, switches project, reads the portal in Korean and back, and signs out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_switch_project_language_and_sign_out(
    page: Page, live_server: Any, portal_clouds_yaml: Path, make_tenant: Any, sdk_admin: Any
) -> None:
    first, second = make_tenant("journey-a"), make_tenant("journey-b")
    sdk_admin.identity.assign_project_role_to_user(
        second.project, first.user, sdk_admin.identity.find_role("member")
    )

    page.goto(live_server.url + "/project/overview/")
    expect(page).to_have_url(live_server.url + "/auth/sign-in/?next=%2Fproject%2Foverview%2F")
    page.get_by_label("User name", exact=True).fill(first.username)
    page.get_by_label("Password", exact=True).fill(first.password)
    page.get_by_role("button", name="Sign in").click()

    # Two projects, none used before: the portal asks which one.
    expect(page.get_by_role("heading", name="Choose a project")).to_be_visible()
    page.get_by_role("button", name=f"Open {first.name}").click()
    expect(page.get_by_role("heading", name=f"Project {first.name}")).to_be_visible()

    page.get_by_label("Project", exact=True).select_option(label=second.name)
    expect(page.get_by_text(f"Switched to project {second.name}.")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Project {second.name}")).to_be_visible()

    page.get_by_label("Language").select_option("ko")
    expect(page.get_by_role("heading", name=f"프로젝트 {second.name}")).to_be_visible()
    expect(page.get_by_role("button", name="로그아웃")).to_be_visible()
    page.get_by_label("언어").select_option("en")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto(live_server.url + "/project/overview/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
