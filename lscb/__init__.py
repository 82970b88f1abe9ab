"""The application: the ``lscb`` command and what every command shares (outputs, options)."""
