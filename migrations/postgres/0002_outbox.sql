-- Outbox (filled in by the mail work).
SELECT 1;
