#pragma once

// The PostgreSQL server of a test run: `tools/pg.sh` starts a throwaway one
// (ctest does it through the "postgres" fixture), and each test works in a
// schema of its own so that tests never see each other's rows.

#include <cstdint>
#include <memory>
#include <string>

namespace argus::test {

/// The connection string of the test server: $ARGUS_TEST_PG_DSN, else what
/// ctest's fixture wrote to the build folder; empty when there is none.
std::string pg_base_dsn();

/// `dsn` with `search_path` set to `schema`, as a key/value string.
std::string pg_dsn_with_schema(const std::string& dsn,
                               const std::string& schema);

/// Runs SQL on `dsn`; throws std::runtime_error naming the failure.
void pg_exec(const std::string& dsn, const std::string& sql);

/// The first column of the first row of a query, as an integer (-1 if
/// there is no row); throws std::runtime_error on failure.
int64_t pg_query_int(const std::string& dsn, const std::string& sql);

/// One connection kept open, for tests that hold locks or a transaction
/// across statements while the code under test runs.
class pg_session {
public:
  /// Throws std::runtime_error when it cannot connect.
  explicit pg_session(const std::string& dsn);
  ~pg_session();
  pg_session(const pg_session&) = delete;
  pg_session& operator=(const pg_session&) = delete;

  /// Runs SQL; throws std::runtime_error naming the failure.
  void exec(const std::string& sql);
  /// Runs SQL; false when the server refused it (for example a lock
  /// taken with NOWAIT that another transaction holds).
  bool try_exec(const std::string& sql);
  /// As pg_query_int, on this connection.
  int64_t query_int(const std::string& sql);

private:
  struct connection;
  std::unique_ptr<connection> conn_;
};

/// A fresh schema on the test server, dropped again on destruction.
class pg_schema {
public:
  /// Throws std::runtime_error when there is no test server.
  pg_schema();
  ~pg_schema();
  pg_schema(const pg_schema&) = delete;
  pg_schema& operator=(const pg_schema&) = delete;

  const std::string& name() const { return name_; }
  /// A DSN whose connections use this schema.
  const std::string& dsn() const { return dsn_; }

  void exec(const std::string& sql) const { pg_exec(dsn_, sql); }
  int64_t query_int(const std::string& sql) const {
    return pg_query_int(dsn_, sql);
  }

private:
  std::string base_;
  std::string name_;
  std::string dsn_;
};

} // namespace argus::test
