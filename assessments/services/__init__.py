"""Operations of the assessments package: plain functions over a session, no requests."""
