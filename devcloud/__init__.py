"""devcloud: installs and runs the real all-in-one OpenStack used by the demo and the tests."""
