from django.apps import AppConfig


class QuotasConfig(AppConfig):
    name = "quotas"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A project created on Identity › Projects follows the portal's network defaults;
        # projects/ calls what is listed there and imports nothing of quotas/.
        from projects.admin_views import AFTER_CREATE_PROJECT
        from quotas.services import follow_network_defaults

        AFTER_CREATE_PROJECT.append(follow_network_defaults)
