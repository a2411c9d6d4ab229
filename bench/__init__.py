"""`just bench`: what users pay for, measured against baselines run on the same machine in the same run."""
