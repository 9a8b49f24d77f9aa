-- Number 0007 is another change's; this file stands in for it until that
-- change is merged, and is then replaced by it.
SELECT 1;
