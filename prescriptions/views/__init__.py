"""Pages of the prescriptions floor: the catalogue and the prescriber's pages."""
