#pragma once

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

/// What the PostgreSQL storage and journal share: one connection with
/// reconnects, prepared statements, pipelined batches and error mapping,
/// plus the versioned schema both live in.
namespace argus::storage::pg {

struct result_clearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_clearer>;

/// A named statement, prepared once per connection on first use.
struct statement {
  const char* name;
  std::string sql;
};

/// The parameters of one execution. Texts go in binary format with their
/// length, escaped by `escape_text`; numbers and booleans in text format.
class params {
public:
  params& text(std::string_view x);
  params& integer(int64_t x);
  params& boolean(bool x);
  params& null();

  int size() const { return static_cast<int>(values_.size()); }
  /// Pointers into this object, valid while it is not changed.
  std::vector<const char*> values() const;
  const std::vector<int>& lengths() const { return lengths_; }
  const std::vector<int>& formats() const { return formats_; }

private:
  std::vector<std::string> values_;
  std::vector<bool> nulls_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

/// One execution of a prepared statement inside a batch.
struct step {
  const statement* stmt;
  params args;
};

/// One connection, used by one thread at a time. A lost connection is
/// replaced on the next call; until then calls fail with `ec::unavailable`.
class connection {
public:
  explicit connection(std::string dsn);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Connects unless already connected.
  caf::error ensure();

  /// Runs `statements` (no parameters), one by one and so each in a
  /// transaction of its own, on this session now, and on every later
  /// session first thing after it connects: for what lives and dies with
  /// a session, such as a session-level lock. Should one fail, the
  /// session is dropped with what the ones before it did.
  caf::error on_every_session(std::vector<std::string> statements,
                              std::string_view what);

  /// `text` as an SQL literal (quoted and escaped), for SQL that takes no
  /// parameters, such as `on_every_session`'s.
  caf::expected<std::string> literal(std::string_view text);

  /// Runs a prepared statement. Outside a transaction, a statement that
  /// finds the connection lost (e.g. the server restarted while idle) is
  /// retried once on a fresh connection: such statements are single reads,
  /// idempotent writes or BEGIN.
  caf::expected<result_ptr> run(const statement& stmt, const params& args,
                                std::string_view what);

  /// Runs SQL without parameters (BEGIN, COMMIT, DDL); same retry rule.
  caf::expected<result_ptr> exec(const std::string& sql, std::string_view what);

  /// Runs `steps` in pipeline mode, a few round trips for the lot, inside
  /// the transaction the caller opened (outside one, each chunk of 256
  /// steps would commit on its own: see `transaction`). Stops at the first
  /// failure.
  caf::error pipeline(const std::vector<step>& steps, std::string_view what);

  /// Runs `steps` as one transaction. Steps that fit one pipeline chunk
  /// take one round trip: the pipeline's Sync commits them (the implicit
  /// transaction of the extended protocol), where BEGIN and COMMIT of
  /// their own took two more. More steps are wrapped in BEGIN and COMMIT.
  /// `repeatable`: running the steps twice stores what running them once
  /// does, so a connection found lost (say, the server restarted while it
  /// was idle) is replaced and the steps run once more.
  caf::error transaction(const std::vector<step>& steps, std::string_view what,
                         bool repeatable);

  /// Ends the open transaction, if any, with ROLLBACK (errors ignored: a
  /// lost connection rolls back by itself).
  void rollback();

  /// The error for a failed `res` (or for the connection when null):
  /// `ec::unavailable` when the server is gone or cannot take work now,
  /// `ec::internal` otherwise; the message starts with "postgres: ".
  caf::error failure(const PGresult* res, std::string_view what) const;

  PGconn* get() const { return conn_; }

  /// Counts the sessions made so far: a change means the session before
  /// ended, and what lives with a session (its locks) with it.
  uint64_t session() const { return sessions_; }

private:
  caf::expected<result_ptr> attempt(const statement* stmt,
                                    const std::string* sql, const params* args,
                                    std::string_view what);
  caf::error prepare(const statement& stmt, std::string_view what);
  bool lost(const PGresult* res) const;
  void drop();

  std::string dsn_;
  PGconn* conn_ = nullptr;
  /// Sessions made so far (see `session`).
  uint64_t sessions_ = 0;
  std::unordered_set<std::string> prepared_;
  /// `on_every_session`'s statements, with what they do, in order.
  std::vector<std::pair<std::vector<std::string>, std::string>> session_setup_;
};

/// The outcome of transaction `xid` (as `pg_current_xact_id()` gave it):
/// "committed", "aborted", or empty when the server no longer knows. Asked
/// up to `attempts` times 20 ms apart while it is "in progress" (a lost
/// session's backend may still be running its COMMIT), and answered
/// "in progress" if it still is.
caf::expected<std::string>
transaction_outcome(connection& conn, const std::string& xid, int attempts);

/// The error of a statement's outcome, or none when it ran: for
/// statements whose result is not read (BEGIN, COMMIT, DELETE, ...).
inline caf::error done(caf::expected<result_ptr> res) {
  return res ? caf::error{} : std::move(res.error());
}

/// Opens a connection and brings the schema to the latest version (each
/// step in its own transaction, under an advisory lock so concurrent nodes
/// do not race). The error names what failed, never the DSN (it may hold a
/// password).
caf::expected<std::unique_ptr<connection>> open(const std::string& dsn);

/// The schema version this build creates (for tests).
int latest_schema_version();

/// PostgreSQL text cannot hold a NUL byte, which JSON ("\u0000") and so
/// the API can carry. Every text is stored with NUL as 0x01 0x01 and 0x01 as
/// 0x01 0x02; texts without either byte (nearly all) are unchanged. The
/// codes keep equality and byte order, so lookups and listings behave as
/// on the other backends.
std::string escape_text(std::string_view x);
std::string unescape_text(std::string_view x);

/// A bigint[] literal ("{1,2,3}") for a parameter sent as text and cast
/// with `$n::text::bigint[]` (parameters go in binary format).
std::string bigint_array(const std::vector<uint64_t>& xs);

/// A text[] literal (`{"a","b \"c\""}`) for a parameter sent as text and
/// cast with `$n::text::text[]`.
std::string text_array(const std::vector<std::string>& xs);

/// SQL that reads the JSON text in `column` (a notification body) as
/// jsonb. PostgreSQL's JSON functions refuse a whole document with
/// "\u0000" anywhere in it, which the API can carry (in a summary, say),
/// so it is read with "\u0001" in its place. A text taken from it with
/// either byte differs from the same text stored in a column (escaped,
/// see `escape_text`).
std::string readable_jsonb(std::string_view column);

/// Text of column `col` in row `row` (unescaped).
std::string text_at(const PGresult* res, int row, int col);
/// Integer of column `col` in row `row` (0 for NULL).
int64_t integer_at(const PGresult* res, int row, int col);
/// Boolean of column `col` in row `row`.
bool boolean_at(const PGresult* res, int row, int col);

} // namespace argus::storage::pg
