import os

# Playwright's sync API runs an event loop in the test thread; Django would then refuse the
# test's own database setup and teardown as "async unsafe". Only tests are affected.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
