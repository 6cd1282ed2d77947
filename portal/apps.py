from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class PortalConfig(AppConfig):
    name = "portal"

    def ready(self) -> None:
        # Each app's "show as code" writers (portal/as_code.py), as Django finds admin.py:
        # <app>/as_code.py, and <app>/admin_as_code.py for its admin pages' forms.
        autodiscover_modules("as_code", "admin_as_code")
