#include "db/migrations.hpp"

#include <array>
#include <string>
#include <utility>

namespace bootherd::db {
namespace {

// Times are INTEGER milliseconds since the Unix epoch (UTC). Booleans are INTEGER 0/1.
constexpr std::string_view schema_v1 = R"sql(
CREATE TABLE images (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    description TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    promoted_version_id INTEGER REFERENCES versions(id),
    previous_promoted_version_id INTEGER REFERENCES versions(id)
) STRICT;

CREATE TABLE versions (
    id INTEGER PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    number INTEGER NOT NULL CHECK (number >= 1),
    parent_version_id INTEGER REFERENCES versions(id),
    file_path TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'sealed')),
    size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
    file_bytes INTEGER NOT NULL DEFAULT 0 CHECK (file_bytes >= 0),
    created_at INTEGER NOT NULL,
    sealed_at INTEGER,
    note TEXT NOT NULL DEFAULT '',
    UNIQUE (image_id, number),
    CHECK ((state = 'sealed') = (sealed_at IS NOT NULL))
) STRICT;
CREATE INDEX versions_parent ON versions(parent_version_id);

-- A sealed version's content is frozen: only its note may still change.
CREATE TRIGGER versions_sealed_immutable BEFORE UPDATE ON versions
WHEN OLD.state = 'sealed' AND (
    NEW.image_id IS NOT OLD.image_id OR NEW.number IS NOT OLD.number OR
    NEW.parent_version_id IS NOT OLD.parent_version_id OR NEW.file_path IS NOT OLD.file_path OR
    NEW.state IS NOT OLD.state OR NEW.size_bytes IS NOT OLD.size_bytes OR
    NEW.file_bytes IS NOT OLD.file_bytes OR NEW.created_at IS NOT OLD.created_at OR
    NEW.sealed_at IS NOT OLD.sealed_at)
BEGIN
    SELECT RAISE(ABORT, 'version is sealed and immutable');
END;

-- Every promotion, newest last. Rollback marks the newest live entry rolled back, so the live entries form
-- a stack that rollback pops one at a time.
CREATE TABLE promotions (
    id INTEGER PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    promoted_at INTEGER NOT NULL,
    rolled_back_at INTEGER
) STRICT;
CREATE INDEX promotions_image ON promotions(image_id, id);
CREATE INDEX promotions_version ON promotions(version_id);

CREATE TABLE groups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    image_id INTEGER REFERENCES images(id),
    persistent INTEGER NOT NULL DEFAULT 0 CHECK (persistent IN (0, 1)),
    description TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX groups_image ON groups(image_id);

-- image_id and persistent NULL mean "inherit from the group".
CREATE TABLE nodes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    mac TEXT NOT NULL UNIQUE CHECK (length(mac) = 17 AND mac = lower(mac)),
    group_id INTEGER REFERENCES groups(id) ON DELETE SET NULL,
    image_id INTEGER REFERENCES images(id),
    persistent INTEGER CHECK (persistent IN (0, 1)),
    enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    iqn TEXT NOT NULL UNIQUE,
    chap_user TEXT NOT NULL,
    chap_secret TEXT NOT NULL,
    fixed_ip TEXT UNIQUE,
    created_at INTEGER NOT NULL,
    disk_version_id INTEGER REFERENCES versions(id),
    disk_path TEXT,
    last_boot_at INTEGER,
    state TEXT NOT NULL DEFAULT 'new'
) STRICT;
CREATE INDEX nodes_group ON nodes(group_id);
CREATE INDEX nodes_image ON nodes(image_id);
CREATE INDEX nodes_disk_version ON nodes(disk_version_id);

CREATE TABLE discovered (
    mac TEXT PRIMARY KEY,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    arch TEXT NOT NULL DEFAULT '',
    vendor_class TEXT NOT NULL DEFAULT '',
    seen_count INTEGER NOT NULL DEFAULT 1
) STRICT, WITHOUT ROWID;

CREATE TABLE leases (
    mac TEXT PRIMARY KEY,
    ip TEXT NOT NULL UNIQUE,
    expires_at INTEGER NOT NULL,
    hostname TEXT NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;

-- AUTOINCREMENT: ids are never reused after a prune, so "events since id N" stays correct for live streams.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    node_id INTEGER REFERENCES nodes(id) ON DELETE SET NULL,
    mac TEXT,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX events_node_at ON events(node_id, at);
CREATE INDEX events_at ON events(at);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX audit_at ON audit(at);
)sql";

// Web access: operator accounts, browser sessions and API tokens. Session and API tokens are stored as
// SHA-256 hashes so a copy of the catalog does not hand out live credentials.
constexpr std::string_view schema_v2 = R"sql(
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX web_sessions_expires ON web_sessions(expires_at);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
) STRICT;
)sql";

// Security (v3): where a node's secrets may go, per-draft maintenance credentials, scoped API tokens.
//   groups.bind_address / nodes.bind_address: serve a node's boot script and admit its iSCSI logins only from
//     the address the server ties to its MAC (1, the default) or from anywhere (0: routed/NAT'd set-ups);
//     a node's NULL inherits its group's, a node without a group binds.
//   nodes.boot_address/boot_address_at: the address the node is bound to for its current boot (its full-DHCP
//     lease, or in proxy mode the address the ARP table mapped to its MAC during its PXE exchange).
//   versions.chap_user/chap_secret: a draft's own CHAP credentials (NULL for sealed versions).
//   api_tokens.scope/expires_at: 'admin' (everything) or 'read' (GET only, e.g. Prometheus); NULL: no expiry.
constexpr std::string_view schema_v3 = R"sql(
ALTER TABLE groups ADD COLUMN bind_address INTEGER NOT NULL DEFAULT 1 CHECK (bind_address IN (0, 1));
ALTER TABLE nodes ADD COLUMN bind_address INTEGER CHECK (bind_address IN (0, 1));
ALTER TABLE nodes ADD COLUMN boot_address TEXT;
ALTER TABLE nodes ADD COLUMN boot_address_at INTEGER;
ALTER TABLE versions ADD COLUMN chap_user TEXT;
ALTER TABLE versions ADD COLUMN chap_secret TEXT;
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin' CHECK (scope IN ('admin', 'read'));
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
)sql";

// Machine identity (v4): nodes.hostname is the host name given explicitly (lower case; NULL: the node goes
// by its name when that is a valid host name). No two nodes share the name they go by: an explicit host name
// is a valid host name, so lower(name) can only equal one when the name is a host name too.
constexpr std::string_view schema_hostname = R"sql(
ALTER TABLE nodes ADD COLUMN hostname TEXT
    CHECK (hostname = lower(hostname) AND length(hostname) BETWEEN 1 AND 253);
CREATE UNIQUE INDEX nodes_host_name ON nodes(coalesce(hostname, lower(name)));
)sql";

// Maintenance from a machine (v5): versions.maintenance_node_id names the node that boots a draft (its next
// boot script sanboots the draft instead of its own disk); one draft per node, cleared when the draft is
// sealed, and when the node is removed.
constexpr std::string_view schema_maintenance = R"sql(
ALTER TABLE versions ADD COLUMN maintenance_node_id INTEGER REFERENCES nodes(id) ON DELETE SET NULL;
CREATE UNIQUE INDEX versions_maintenance_node ON versions(maintenance_node_id)
    WHERE maintenance_node_id IS NOT NULL;
)sql";

// Boot attempts (v6): one row per boot of an enrolled node (see boots/). Each step's time (NULL until it
// happened), the version its disk sat on (the draft, when it boots one), and its outcome: 'running' until it
// ends 'ok' or 'failed' (reason: why; message: what the machine's health report said).
constexpr std::string_view schema_boots = R"sql(
CREATE TABLE boots (
    id INTEGER PRIMARY KEY,
    node_id INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    mac TEXT NOT NULL,
    version_id INTEGER REFERENCES versions(id) ON DELETE SET NULL,
    started_at INTEGER NOT NULL,
    dhcp_at INTEGER,
    tftp_at INTEGER,
    script_at INTEGER,
    firmware_login_at INTEGER,
    first_read_at INTEGER,
    os_login_at INTEGER,
    health_at INTEGER,
    ended_at INTEGER,
    outcome TEXT NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'ok', 'failed')),
    reason TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    CHECK ((outcome = 'running') = (ended_at IS NULL))
) STRICT;
CREATE INDEX boots_node ON boots(node_id, id);
CREATE INDEX boots_version ON boots(version_id, id);
CREATE INDEX boots_running ON boots(outcome) WHERE outcome = 'running';
)sql";

// A rollout moves an image's machines from one sealed version to another stage by stage (rollouts/). Version
// numbers are kept beside the ids so the history still reads right once a version is deleted.
constexpr std::string_view schema_rollouts = R"sql(
CREATE TABLE rollouts (
    id INTEGER PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    from_version_id INTEGER REFERENCES versions(id) ON DELETE SET NULL,
    to_version_id INTEGER REFERENCES versions(id) ON DELETE SET NULL,
    from_number INTEGER NOT NULL,
    to_number INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'succeeded', 'rolled_back', 'aborted')),
    current_stage INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    ended_at INTEGER,
    reason TEXT NOT NULL DEFAULT '',
    webhook_url TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE UNIQUE INDEX rollouts_one_active ON rollouts(image_id) WHERE state IN ('running', 'paused');
CREATE TABLE rollout_stages (
    rollout_id INTEGER NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    name TEXT NOT NULL,
    min_ok INTEGER NOT NULL,
    max_failures INTEGER NOT NULL,
    soak_ms INTEGER NOT NULL,
    max_parallel INTEGER NOT NULL,
    hours_from INTEGER,
    hours_to INTEGER,
    started_at INTEGER,
    soaking_since INTEGER,
    passed_at INTEGER,
    PRIMARY KEY (rollout_id, idx)
) STRICT;
CREATE TABLE rollout_members (
    rollout_id INTEGER NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
    node_id INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    stage INTEGER NOT NULL,
    granted_at INTEGER,
    PRIMARY KEY (rollout_id, node_id)
) STRICT;
CREATE INDEX rollout_members_node ON rollout_members(node_id);
CREATE TABLE rollout_events (
    id INTEGER PRIMARY KEY,
    rollout_id INTEGER NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX rollout_events_rollout ON rollout_events(rollout_id, id);
)sql";

// Several servers on one catalog (v8, see docs/SCALE-OUT.md): each serving process registers itself and
// heartbeats its load; a sealed version records the SHA-256 of its file so that other servers can verify the
// copies they pull, and server_versions lists the verified copies each server holds. A node is homed on one
// server (its disk lives there), placed at its boot (home_placed_at); NULL until a boot places it.
constexpr std::string_view schema_servers = R"sql(
ALTER TABLE versions ADD COLUMN sha256 TEXT CHECK (sha256 IS NULL OR (length(sha256) = 64 AND sha256 = lower(sha256)));
CREATE TRIGGER versions_sha256_once BEFORE UPDATE OF sha256 ON versions
WHEN OLD.sha256 IS NOT NULL AND NEW.sha256 IS NOT OLD.sha256
BEGIN
    SELECT RAISE(ABORT, 'the SHA-256 of a version is recorded once');
END;
CREATE TABLE servers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    iscsi_portal TEXT NOT NULL,
    web_url TEXT NOT NULL DEFAULT '',
    capacity INTEGER NOT NULL CHECK (capacity >= 1),
    max_booting INTEGER NOT NULL CHECK (max_booting >= 0),
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    sessions INTEGER NOT NULL DEFAULT 0 CHECK (sessions >= 0),
    booting INTEGER NOT NULL DEFAULT 0 CHECK (booting >= 0)
) STRICT;
CREATE TABLE server_versions (
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    verified_at INTEGER NOT NULL,
    PRIMARY KEY (server_id, version_id)
) STRICT;
CREATE INDEX server_versions_version ON server_versions(version_id);
ALTER TABLE nodes ADD COLUMN home_server_id INTEGER REFERENCES servers(id) ON DELETE SET NULL;
ALTER TABLE nodes ADD COLUMN home_placed_at INTEGER;
CREATE INDEX nodes_home_server ON nodes(home_server_id) WHERE home_server_id IS NOT NULL;
)sql";

// Live events from every server (v9): on PostgreSQL each statement that adds events notifies the channel
// bootherd_events (db/event_notices listens), whichever server or CLI wrote them. SQLite has no such thing:
// there the step changes nothing, and the event stream polls the table as before.
constexpr std::string_view schema_event_notices = R"sql(
-- PostgreSQL only (LISTEN/NOTIFY); nothing to do on SQLite.
)sql";

constexpr std::array<std::string_view, 9> scripts{schema_v1,       schema_v2,          schema_v3,
                                                  schema_hostname, schema_maintenance, schema_boots,
                                                  schema_rollouts, schema_servers,     schema_event_notices};

// PostgreSQL starts from one baseline equal to the SQLite schema at `postgres_baseline_version`; every later
// migration goes into both lists. Differences that queries rely on: INTEGER is BIGINT; names compare with the
// case-insensitive collation `nocase` (as SQLite's COLLATE NOCASE, also for ORDER BY) and `"binary"` is the
// plain byte-wise one (LIKE refuses nondeterministic collations); json_valid and instr exist as in SQLite.
constexpr int postgres_baseline_version = 8;
constexpr std::string_view postgres_baseline = R"sql(
CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE COLLATION "binary" FROM "C";

CREATE FUNCTION json_valid(document TEXT) RETURNS BOOLEAN LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM document::json;
    RETURN true;
EXCEPTION WHEN others THEN
    RETURN false;
END $$;
CREATE FUNCTION instr(haystack TEXT, needle TEXT) RETURNS INTEGER LANGUAGE sql IMMUTABLE
    RETURN strpos(haystack, needle);

CREATE TABLE images (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT COLLATE nocase NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    promoted_version_id BIGINT,
    previous_promoted_version_id BIGINT
);

CREATE TABLE versions (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    image_id BIGINT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    number BIGINT NOT NULL CHECK (number >= 1),
    parent_version_id BIGINT REFERENCES versions(id),
    file_path TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'sealed')),
    size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0),
    file_bytes BIGINT NOT NULL DEFAULT 0 CHECK (file_bytes >= 0),
    created_at BIGINT NOT NULL,
    sealed_at BIGINT,
    note TEXT NOT NULL DEFAULT '',
    chap_user TEXT,
    chap_secret TEXT,
    maintenance_node_id BIGINT,
    sha256 TEXT CHECK (sha256 IS NULL OR (length(sha256) = 64 AND sha256 = lower(sha256))),
    UNIQUE (image_id, number),
    CHECK ((state = 'sealed') = (sealed_at IS NOT NULL))
);
CREATE INDEX versions_parent ON versions(parent_version_id);
ALTER TABLE images ADD FOREIGN KEY (promoted_version_id) REFERENCES versions(id);
ALTER TABLE images ADD FOREIGN KEY (previous_promoted_version_id) REFERENCES versions(id);

-- A sealed version's content is frozen: only its note may still change.
CREATE FUNCTION versions_sealed_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state = 'sealed' AND (
        NEW.image_id IS DISTINCT FROM OLD.image_id OR NEW.number IS DISTINCT FROM OLD.number OR
        NEW.parent_version_id IS DISTINCT FROM OLD.parent_version_id OR
        NEW.file_path IS DISTINCT FROM OLD.file_path OR NEW.state IS DISTINCT FROM OLD.state OR
        NEW.size_bytes IS DISTINCT FROM OLD.size_bytes OR NEW.file_bytes IS DISTINCT FROM OLD.file_bytes OR
        NEW.created_at IS DISTINCT FROM OLD.created_at OR NEW.sealed_at IS DISTINCT FROM OLD.sealed_at) THEN
        RAISE EXCEPTION 'version is sealed and immutable';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER versions_sealed_immutable BEFORE UPDATE ON versions
    FOR EACH ROW EXECUTE FUNCTION versions_sealed_immutable();

CREATE FUNCTION versions_sha256_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.sha256 IS NOT NULL AND NEW.sha256 IS DISTINCT FROM OLD.sha256 THEN
        RAISE EXCEPTION 'the SHA-256 of a version is recorded once';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER versions_sha256_once BEFORE UPDATE OF sha256 ON versions
    FOR EACH ROW EXECUTE FUNCTION versions_sha256_once();

CREATE TABLE servers (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    iscsi_portal TEXT NOT NULL,
    web_url TEXT NOT NULL DEFAULT '',
    capacity BIGINT NOT NULL CHECK (capacity >= 1),
    max_booting BIGINT NOT NULL CHECK (max_booting >= 0),
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    sessions BIGINT NOT NULL DEFAULT 0 CHECK (sessions >= 0),
    booting BIGINT NOT NULL DEFAULT 0 CHECK (booting >= 0)
);
CREATE TABLE server_versions (
    server_id BIGINT NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    version_id BIGINT NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    verified_at BIGINT NOT NULL,
    PRIMARY KEY (server_id, version_id)
);
CREATE INDEX server_versions_version ON server_versions(version_id);

CREATE TABLE promotions (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    image_id BIGINT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    version_id BIGINT NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    promoted_at BIGINT NOT NULL,
    rolled_back_at BIGINT
);
CREATE INDEX promotions_image ON promotions(image_id, id);
CREATE INDEX promotions_version ON promotions(version_id);

CREATE TABLE groups (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT COLLATE nocase NOT NULL UNIQUE,
    image_id BIGINT REFERENCES images(id),
    persistent BIGINT NOT NULL DEFAULT 0 CHECK (persistent IN (0, 1)),
    description TEXT NOT NULL DEFAULT '',
    bind_address BIGINT NOT NULL DEFAULT 1 CHECK (bind_address IN (0, 1))
);
CREATE INDEX groups_image ON groups(image_id);

CREATE TABLE nodes (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT COLLATE nocase NOT NULL UNIQUE,
    mac TEXT NOT NULL UNIQUE CHECK (length(mac) = 17 AND mac = lower(mac)),
    group_id BIGINT REFERENCES groups(id) ON DELETE SET NULL,
    image_id BIGINT REFERENCES images(id),
    persistent BIGINT CHECK (persistent IN (0, 1)),
    enabled BIGINT NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    iqn TEXT NOT NULL UNIQUE,
    chap_user TEXT NOT NULL,
    chap_secret TEXT NOT NULL,
    fixed_ip TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    disk_version_id BIGINT REFERENCES versions(id),
    disk_path TEXT,
    last_boot_at BIGINT,
    state TEXT NOT NULL DEFAULT 'new',
    bind_address BIGINT CHECK (bind_address IN (0, 1)),
    boot_address TEXT,
    boot_address_at BIGINT,
    hostname TEXT CHECK (hostname = lower(hostname) AND length(hostname) BETWEEN 1 AND 253),
    home_server_id BIGINT REFERENCES servers(id) ON DELETE SET NULL,
    home_placed_at BIGINT
);
CREATE INDEX nodes_group ON nodes(group_id);
CREATE INDEX nodes_image ON nodes(image_id);
CREATE INDEX nodes_disk_version ON nodes(disk_version_id);
CREATE UNIQUE INDEX nodes_host_name ON nodes(coalesce(hostname, lower(name)));
CREATE INDEX nodes_home_server ON nodes(home_server_id) WHERE home_server_id IS NOT NULL;

ALTER TABLE versions ADD FOREIGN KEY (maintenance_node_id) REFERENCES nodes(id) ON DELETE SET NULL;
CREATE UNIQUE INDEX versions_maintenance_node ON versions(maintenance_node_id)
    WHERE maintenance_node_id IS NOT NULL;

CREATE TABLE discovered (
    mac TEXT PRIMARY KEY,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    arch TEXT NOT NULL DEFAULT '',
    vendor_class TEXT NOT NULL DEFAULT '',
    seen_count BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE leases (
    mac TEXT PRIMARY KEY,
    ip TEXT NOT NULL UNIQUE,
    expires_at BIGINT NOT NULL,
    hostname TEXT NOT NULL DEFAULT ''
);

-- Identity ids are never reused, so "events since id N" stays correct for live streams.
CREATE TABLE events (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    node_id BIGINT REFERENCES nodes(id) ON DELETE SET NULL,
    mac TEXT,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_node_at ON events(node_id, at);
CREATE INDEX events_at ON events(at);

CREATE TABLE audit (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_at ON audit(at);

CREATE TABLE users (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT COLLATE nocase NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions(expires_at);

CREATE TABLE api_tokens (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    scope TEXT NOT NULL DEFAULT 'admin' CHECK (scope IN ('admin', 'read')),
    expires_at BIGINT
);

CREATE TABLE boots (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    node_id BIGINT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    mac TEXT NOT NULL,
    version_id BIGINT REFERENCES versions(id) ON DELETE SET NULL,
    started_at BIGINT NOT NULL,
    dhcp_at BIGINT,
    tftp_at BIGINT,
    script_at BIGINT,
    firmware_login_at BIGINT,
    first_read_at BIGINT,
    os_login_at BIGINT,
    health_at BIGINT,
    ended_at BIGINT,
    outcome TEXT NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'ok', 'failed')),
    reason TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    CHECK ((outcome = 'running') = (ended_at IS NULL))
);
CREATE INDEX boots_node ON boots(node_id, id);
CREATE INDEX boots_version ON boots(version_id, id);
CREATE INDEX boots_running ON boots(outcome) WHERE outcome = 'running';

CREATE TABLE rollouts (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    image_id BIGINT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    from_version_id BIGINT REFERENCES versions(id) ON DELETE SET NULL,
    to_version_id BIGINT REFERENCES versions(id) ON DELETE SET NULL,
    from_number BIGINT NOT NULL,
    to_number BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'succeeded', 'rolled_back', 'aborted')),
    current_stage BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    ended_at BIGINT,
    reason TEXT NOT NULL DEFAULT '',
    webhook_url TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX rollouts_one_active ON rollouts(image_id) WHERE state IN ('running', 'paused');
CREATE TABLE rollout_stages (
    rollout_id BIGINT NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
    idx BIGINT NOT NULL,
    name TEXT NOT NULL,
    min_ok BIGINT NOT NULL,
    max_failures BIGINT NOT NULL,
    soak_ms BIGINT NOT NULL,
    max_parallel BIGINT NOT NULL,
    hours_from BIGINT,
    hours_to BIGINT,
    started_at BIGINT,
    soaking_since BIGINT,
    passed_at BIGINT,
    PRIMARY KEY (rollout_id, idx)
);
CREATE TABLE rollout_members (
    rollout_id BIGINT NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
    node_id BIGINT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    stage BIGINT NOT NULL,
    granted_at BIGINT,
    PRIMARY KEY (rollout_id, node_id)
);
CREATE INDEX rollout_members_node ON rollout_members(node_id);
CREATE TABLE rollout_events (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    rollout_id BIGINT NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX rollout_events_rollout ON rollout_events(rollout_id, id);
)sql";

constexpr std::string_view postgres_event_notices = R"sql(
CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bootherd_events', '');
    RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify();
)sql";

constexpr std::array<std::string_view, 2> postgres_scripts{postgres_baseline, postgres_event_notices};
static_assert(postgres_baseline_version + static_cast<int>(postgres_scripts.size()) - 1 ==
                  static_cast<int>(scripts.size()),
              "every migration after the PostgreSQL baseline goes into both lists");

// PostgreSQL keeps the version in a one-row table (SQLite: PRAGMA user_version).
constexpr std::string_view postgres_version_table =
    "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL); "
    "INSERT INTO schema_version SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version)";

void set_schema_version(Database& db, int version) {
    if (db.backend() == Backend::sqlite)
        db.exec("PRAGMA user_version = " + std::to_string(version));
    else
        db.exec("UPDATE schema_version SET version = " + std::to_string(version));
}

// The script that moves a database of `backend` on from `version`, and the version it reaches.
std::pair<std::string_view, int> next_script(Backend backend, int version) {
    if (backend == Backend::sqlite) return {scripts[static_cast<std::size_t>(version)], version + 1};
    if (version == 0) return {postgres_baseline, postgres_baseline_version};
    if (version < postgres_baseline_version)
        throw Error("catalog schema version " + std::to_string(version) +
                    " cannot be upgraded on PostgreSQL");
    return {postgres_scripts[static_cast<std::size_t>(version - postgres_baseline_version + 1)], version + 1};
}

}  // namespace

std::span<const std::string_view> migration_scripts() noexcept {
    return scripts;
}

int latest_schema_version() noexcept {
    return static_cast<int>(scripts.size());
}

int schema_version(Database& db) {
    auto query = db.prepare(db.backend() == Backend::sqlite ? "PRAGMA user_version"
                                                            : "SELECT version FROM schema_version");
    query->step();
    return static_cast<int>(query->int64(0));
}

void migrate(Database& db) {
    if (db.backend() == Backend::postgres) {
        Transaction tx(db);
        db.exec(postgres_version_table);
        tx.commit();
    }
    while (true) {
        // Each step re-reads the version under the write lock: servers sharing a catalog may start together.
        Transaction tx(db);
        const int current = schema_version(db);
        if (current > latest_schema_version()) {
            throw Error("catalog schema version " + std::to_string(current) +
                        " is newer than this build supports (" + std::to_string(latest_schema_version()) +
                        "); upgrade bootherd or restore a matching backup");
        }
        if (current == latest_schema_version()) return;
        const auto [script, reached] = next_script(db.backend(), current);
        db.exec(script);
        set_schema_version(db, reached);
        tx.commit();
    }
}

}  // namespace bootherd::db
