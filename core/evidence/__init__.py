"""Evidence an investigator can hand on: the audit trail (`audit`), event clips (`clips`) and the
verifiable case package (`package`). Legal hold, case details and reviews with who and when are
services (core.service) over columns of the incidents and events tables."""
