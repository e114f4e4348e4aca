#pragma once

#include "domain/delivery.hpp"

#include <caf/expected.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// Plain settings structs with their defaults, and loading from YAML.
namespace argus::config {

/// HTTPS on the API port (PEM files). Certificate and key together; with
/// `client_ca`, every client must present a certificate that chains to it
/// (mutual TLS).
struct server_tls_settings {
  std::string certificate; ///< the server's certificate (chain)
  std::string key;         ///< its private key
  std::string client_ca;   ///< optional: CA that client certificates need

  bool enabled() const { return !certificate.empty() || !key.empty(); }
};

struct server_settings {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  int read_timeout_seconds = 5;
  int write_timeout_seconds = 5;
  /// Keep-alive idle timeout.
  int idle_timeout_seconds = 5;
  size_t max_body_bytes = size_t{1024} * 1024;
  /// HTTP worker threads running route handlers; each in-flight request
  /// holds one while it is handled (idle keep-alive connections and slow
  /// clients hold none: a worker only reads what has arrived).
  size_t threads = 64;
  /// Extra workers that serve only non-ingest routes (`/healthz`,
  /// `/metrics`, reads, admin), so saturated ingestion cannot starve them.
  size_t reserved_threads = 4;
  /// Open connections in total, and from one client address; a connection
  /// past either bound is answered 503 (plaintext) and closed at once.
  size_t max_connections = 10000;
  size_t max_connections_per_address = 256;
  /// How long a client may take to send a request's line and headers, and
  /// the whole request (with body); 408 (or a silent close before a full
  /// request line) past either. `read_timeout` bounds the pause between two
  /// reads within a request.
  int header_timeout_seconds = 10;
  int request_timeout_seconds = 30;
  /// The request line and headers together; 431 past it.
  size_t max_header_bytes = 16384;
  /// HTTPS (certificate + key, optional client_ca for mutual TLS).
  server_tls_settings tls;
  /// Serve API keys over plain HTTP on a non-loopback address anyway
  /// (e.g. behind a TLS-terminating proxy).
  bool allow_plaintext = false;
  /// Requests per keep-alive connection before the server closes it.
  size_t keep_alive_max_requests = 10000;
  /// Most events one POST /v1/events/batch may carry.
  size_t max_batch_events = 10000;
};

struct ingest_settings {
  /// Accepted events not yet applied by the grouping actors. Past this,
  /// ingestion answers 503 with Retry-After instead of growing memory.
  size_t max_pending_events = 200000;
  /// `journal`: answer 202 only once the event is in the on-disk journal;
  /// `none`: memory only until written behind. Empty: `journal` for the
  /// sqlite and postgres backends, `none` for memory.
  std::string durability;
  /// The file journal's folder (sqlite backend). Empty: `journal` beside
  /// storage.path.
  std::string journal_path;
};

/// Whether accepted events go through the journal under these settings.
struct settings;
bool journaled(const settings& s);

struct storage_settings {
  std::string backend = "sqlite"; ///< sqlite | postgres | memory
  std::string path = "data/argus.db";
  /// libpq connection string or URI; required for postgres.
  std::string dsn;
  /// The repository writes behind in transactions of at most this many
  /// alert changes...
  size_t batch_size = 2000;
  /// ...and at least this far apart: a change that finds the last one
  /// ended longer ago is written at once (with what is already queued), so a
  /// quiet node waits for nothing and a busy one batches. 0: whenever the
  /// queued changes are in. Unset: the backend's default
  /// (`flush_interval_ms_of`).
  std::optional<int> flush_interval_ms;
  /// SQLite's page cache for the store's connection, in MiB. With SQLite's
  /// own default (2 MiB) a growing database's index updates overflowed the
  /// cache within each write, spilling dirty pages to the WAL and reading
  /// them back (docs/benchmarks.md, seventeenth round).
  size_t sqlite_cache_mb = 64;
  /// Seconds a resolved alert is kept after it resolved; 0 keeps them all.
  /// A week: what an on-call review looks back on, while neither the
  /// memory backend nor the SQL tables grow for as long as the node runs.
  int64_t retention = int64_t{7} * 86400;
};

/// The write-behind wait in effect: as set, or 0 for the memory backend
/// (a write costs nothing, so nothing waits) and 5 for SQLite and
/// PostgreSQL (each transaction costs I/O: with 0, durable single events
/// ran 12-25% slower on SQLite; docs/benchmarks.md).
int flush_interval_ms_of(const storage_settings& s);

/// PEM files for TLS on the remoting endpoint. All three or none: CAF
/// verifies peer certificates (both ways) against `ca` once any is set, and
/// falls back to anonymous TLS without them.
struct tls_settings {
  std::string certificate; ///< this side's certificate (chain)
  std::string key;         ///< its private key
  std::string ca;          ///< the CA that peers' certificates must chain to

  bool enabled() const {
    return !certificate.empty() || !key.empty() || !ca.empty();
  }
};

struct node_settings {
  std::string host = "127.0.0.1";
  /// CAF remoting port for argusctl and the cluster; 0 disables it.
  uint16_t port = 4242;
  /// Required to bind to anything but a loopback address.
  tls_settings tls;
};

/// Whether `host` names the loopback interface (127.0.0.0/8, ::1,
/// localhost).
bool is_loopback(const std::string& host);

struct log_settings {
  std::string level = "info"; ///< debug | info | warning | error
};

/// 2 malloc arenas per core (see `actor_settings::malloc_arenas`).
size_t default_malloc_arenas();

struct actor_settings {
  /// Scheduler worker threads.
  size_t threads = 2;
  /// CAF scheduler policy: lazy-sharing | sharing | stealing
  /// (actors/lazy_sharing.hpp).
  std::string policy = "lazy-sharing";
  /// Router actors; events of one event manager always use the same one.
  size_t routers = 2;
  /// glibc malloc arenas for the whole process (0: glibc's own default of 8
  /// per core). Only a server built with glibc's malloc uses it
  /// (-DARGUS_TCMALLOC=OFF); the default build uses tcmalloc, which has no
  /// arenas, and ignores it. With glibc's default every thread gets its own
  /// arena, and memory freed into one arena is not reused by another, so
  /// half-empty arenas of the HTTP workers add up. 2 per core (the default)
  /// holds about 10% less memory per alert at the same CPU per event; 1 per
  /// core about 17% less but about 20% more CPU, as threads then wait on the
  /// arenas' locks (docs/benchmarks.md). The environment variable
  /// MALLOC_ARENA_MAX, when set, wins.
  size_t malloc_arenas = default_malloc_arenas();
};

struct notifier_settings {
  /// How many recent notifications GET /v1/notifications can show.
  size_t keep = 1000;
  /// Delivery retries (notifications.retry.*): the first delay, the
  /// longest one, the most attempts, and how long (seconds) a notification
  /// may be tried before it is dead-lettered.
  int64_t retry_initial_ms = 1000;
  int64_t retry_max_ms = 300000;
  int64_t retry_max_attempts = 12;
  int64_t retry_max_age = 86400;
  /// Outgoing requests in flight, in total and to one receiver.
  size_t max_in_flight = 64;
  size_t max_in_flight_per_receiver = 4;
  /// Argus's own base URL for links in bodies (e.g. Alertmanager's
  /// externalURL); empty leaves them out.
  std::string external_url;
  /// Seconds a manager's notifications wait while its inhibition sources
  /// cannot be read, before they go out unchecked (0: at once).
  int64_t inhibition_check_wait = 30;

  /// The retry settings as the domain's policy.
  domain::retry_policy retry_policy() const;
};

/// A cluster of nodes sharing one PostgreSQL store. Clustering is on when
/// `seeds` or `node_id` is set.
struct cluster_settings {
  /// This node's name among the members; required when clustered, unique.
  std::string node_id;
  /// `host:port` node endpoints (node.host:node.port) of other members to
  /// join through; this node's own address may be listed and is skipped.
  std::vector<std::string> seeds;
  /// CAF middleman heartbeats between nodes, so that a hung peer (no TCP
  /// close) is noticed too...
  int heartbeat_interval_ms = 500;
  /// ...once nothing arrived from it for this long.
  int failure_timeout_ms = 3000;

  bool enabled() const { return !node_id.empty() || !seeds.empty(); }
};

/// Who may use the HTTP API (issue 14).
struct auth_settings {
  /// `required` or `off`. Empty: `required` unless server.host is a
  /// loopback address, where it is `off` (so a local trial needs no key).
  /// `off` is refused on any other address.
  std::string mode;
  /// `open` or `required` (a key that reads every manager): GET /metrics.
  std::string metrics = "open";
  /// A file holding an admin key (`argus_<id>_<secret>`) stored, hashed, on
  /// the first start that sees it; ARGUS_BOOTSTRAP_KEY wins over it.
  std::string bootstrap_key_file;
  /// The bootstrap key's text, read from the file or the environment by
  /// `read_bootstrap_key`; never a YAML key.
  std::string bootstrap_key;
};

/// The rate limit of every event manager that sets none of its own
/// (issue 14). Per node: each node of a cluster counts what it admits.
struct rate_limit_settings {
  /// Events per second a manager may send; fractions allowed. 0: unlimited.
  double events_per_second = 0;
  /// Events a manager may send at once after a pause. 0: the rate rounded
  /// up (at least 1).
  int64_t burst = 0;
};

/// Splits "host:port" (IPv6 hosts in brackets); false if malformed.
bool parse_host_port(const std::string& text, std::string& host,
                     uint16_t& port);

struct settings {
  server_settings server;
  ingest_settings ingest;
  storage_settings storage;
  node_settings node;
  log_settings log;
  actor_settings actors;
  notifier_settings notifications;
  cluster_settings cluster;
  auth_settings auth;
  rate_limit_settings rate_limit;
};

/// Whether requests need a key under these settings (`auth.mode`, or its
/// default for `server.host`).
bool auth_required(const settings& s);

/// Fills `auth.bootstrap_key` from `env_value` (ARGUS_BOOTSTRAP_KEY) when
/// not empty, else from `auth.bootstrap_key_file` when set (surrounding
/// whitespace dropped). The error names the file.
caf::error read_bootstrap_key(settings& s, const char* env_value);

/// Checks every value; the error names the offending key.
caf::error validate(const settings& s);

/// Reads a YAML file; missing keys keep their defaults, unknown keys are
/// errors (a typo must not silently fall back to a default).
caf::expected<settings> load_file(const std::string& path);

/// Reads YAML text (for tests).
caf::expected<settings> load_text(const std::string& yaml);

} // namespace argus::config
