-- The machine's speed around each run (report environment.canary): a
-- trend tells a change of the machine from one of the code by it. NULL
-- for runs stored before, and for reports without a canary.
ALTER TABLE runs ADD COLUMN canary_workload TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN canary_before REAL;
ALTER TABLE runs ADD COLUMN canary_after REAL;
