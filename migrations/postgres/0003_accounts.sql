-- Accounts, sessions, teams (filled in by the accounts work).
SELECT 1;
