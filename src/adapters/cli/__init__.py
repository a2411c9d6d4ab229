"""The operator's command line: argparse in, the same use cases as the admin API, tables or JSON out."""
