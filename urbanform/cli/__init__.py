"""The ``urbanform`` command: one module per subcommand, thin wrappers over the library."""
