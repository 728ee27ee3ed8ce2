"""What comes in: the data contract, file and database readers, typed values, label maturity."""
