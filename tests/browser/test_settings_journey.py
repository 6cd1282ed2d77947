"""A person opens Settings from the user menu, chooses Korean, Seoul time and 10 rows a page,
and sees them applied, then again after signing in anew."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, url: str, tenant: Any) -> None:
    page.goto(url + "/auth/sign-in/")
    page.get_by_label("User name", exact=True).fill(tenant.username)
    page.get_by_label("Password", exact=True).fill(tenant.password)
    page.get_by_role("button", name="Sign in").click()


def test_choose_korean_seoul_time_and_page_size(
    page: Page, live_server: Any, portal_clouds_yaml: Path, make_tenant: Any
) -> None:
    tenant = make_tenant("dm-journey")
    sign_in(page, live_server.url, tenant)
    page.get_by_role("link", name=tenant.username).click()  # the user menu
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()

    page.locator("#id_language").select_option("ko")
    page.locator("#id_time_zone").select_option("Asia/Seoul")
    page.locator("#id_page_size").select_option("10")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("설정을 저장했습니다.")).to_be_visible()
    expect(page.get_by_role("heading", name="설정")).to_be_visible()
    expect(page.locator("#time-now")).to_have_text(re.compile(r"\d\d:\d\d KST$"))
    expect(page.locator("#id_page_size")).to_have_value("10")

    # signed out and in again: the settings come back with the sign-in
    page.get_by_role("button", name="로그아웃").click()
    page.context.clear_cookies()  # as another browser would, without the language cookie
    sign_in(page, live_server.url, tenant)
    page.goto(live_server.url + "/settings/")
    expect(page.get_by_role("heading", name="설정")).to_be_visible()
    expect(page.locator("#id_time_zone")).to_have_value("Asia/Seoul")
