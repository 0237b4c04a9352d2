// Subcommand implementations.
