"""`liferaft replay`: rerun a recovered script locally and take in what it makes."""
