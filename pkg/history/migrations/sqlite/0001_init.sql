-- The history's first schema: a run, its labels, its scenarios, the
-- histograms of each kind of operation, and every figure a threshold can
-- name. Times are Unix nanoseconds, UTC; booleans 0 or 1.
CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    content_key     TEXT    NOT NULL UNIQUE,
    started_at_ns   INTEGER NOT NULL,
    finished_at_ns  INTEGER NOT NULL,
    added_at_ns     INTEGER NOT NULL,
    tool_version    TEXT    NOT NULL,
    tool_revision   TEXT    NOT NULL,
    tool_modified   INTEGER NOT NULL,
    commit_sha      TEXT    NOT NULL,
    branch          TEXT    NOT NULL,
    ci_provider     TEXT    NOT NULL,
    ci_run_id       TEXT    NOT NULL,
    ci_run_url      TEXT    NOT NULL,
    ci_job          TEXT    NOT NULL,
    passed          INTEGER NOT NULL,
    interrupted     INTEGER NOT NULL,
    injected        TEXT    NOT NULL,
    hostname        TEXT    NOT NULL,
    report_json     TEXT    NOT NULL
);
CREATE INDEX runs_by_time ON runs (started_at_ns, id);
CREATE INDEX runs_by_branch ON runs (branch, started_at_ns);

CREATE TABLE run_labels (
    run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key     TEXT    NOT NULL,
    value   TEXT    NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX run_labels_by_pair ON run_labels (key, value);

CREATE TABLE scenarios (
    id                      INTEGER PRIMARY KEY,
    run_id                  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name                    TEXT    NOT NULL,
    grp                     TEXT    NOT NULL,
    status                  TEXT    NOT NULL,
    ops                     INTEGER NOT NULL,
    errors                  INTEGER NOT NULL,
    duration_ns             INTEGER NOT NULL,
    throughput_ops_per_sec  REAL    NOT NULL,
    histogram               TEXT    NOT NULL,
    histogram_uncorrected   TEXT    NOT NULL,
    UNIQUE (run_id, name)
);
CREATE INDEX scenarios_by_name ON scenarios (name, run_id);

CREATE TABLE scenario_kinds (
    scenario_id  INTEGER NOT NULL REFERENCES scenarios (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    histogram    TEXT    NOT NULL,
    PRIMARY KEY (scenario_id, kind)
);

CREATE TABLE figures (
    scenario_id  INTEGER NOT NULL REFERENCES scenarios (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    value        REAL,
    PRIMARY KEY (scenario_id, name)
);
CREATE INDEX figures_by_name ON figures (name, scenario_id);
