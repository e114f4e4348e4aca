#include "support/postgres.hpp"

#include <libpq-fe.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace argus::test {

namespace {

struct conn_closer {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using conn_ptr = std::unique_ptr<PGconn, conn_closer>;

struct result_clearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_clearer>;

conn_ptr connect(const std::string& dsn) {
  conn_ptr c{PQconnectdb(dsn.c_str())};
  if (!c || PQstatus(c.get()) != CONNECTION_OK)
    throw std::runtime_error(
        "cannot connect to the test PostgreSQL: " +
        std::string{c ? PQerrorMessage(c.get()) : "out of memory"});
  // Quiet "schema does not exist, skipping" and the like.
  PQsetNoticeProcessor(
      c.get(), [](void*, const char*) {}, nullptr);
  return c;
}

result_ptr run(PGconn* c, const std::string& sql) {
  result_ptr res{PQexec(c, sql.c_str())};
  auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    throw std::runtime_error("test SQL failed: " + sql + ": " +
                             PQerrorMessage(c));
  return res;
}

/// Quotes a libpq key/value connection parameter.
std::string quoted(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "'";
}

std::string random_name(const std::string& prefix) {
  static std::atomic<uint64_t> counter{0};
  static thread_local std::mt19937_64 gen{std::random_device{}()};
  std::ostringstream out;
  out << prefix << "_" << ::getpid() << "_" << ++counter << "_" << std::hex
      << (gen() & 0xffffff);
  return out.str();
}

} // namespace

std::string pg_base_dsn() {
  if (auto env = std::getenv("ARGUS_TEST_PG_DSN"); env && *env)
    return env;
#ifdef ARGUS_TEST_PG_DSN_FILE
  std::ifstream in{ARGUS_TEST_PG_DSN_FILE};
  std::string line;
  if (in && std::getline(in, line))
    return line;
#endif
  return {};
}

std::string pg_dsn_with_schema(const std::string& dsn,
                               const std::string& schema) {
  char* error = nullptr;
  auto* options = PQconninfoParse(dsn.c_str(), &error);
  if (!options) {
    std::string what = error ? error : "out of memory";
    PQfreemem(error);
    throw std::runtime_error("bad test DSN: " + what);
  }
  std::string out;
  std::string extra_options;
  for (auto* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr)
      continue;
    if (std::string{o->keyword} == "options") {
      extra_options = o->val;
      continue;
    }
    out += std::string{o->keyword} + "=" + quoted(o->val) + " ";
  }
  PQconninfoFree(options);
  if (!extra_options.empty())
    extra_options += " ";
  extra_options += "-csearch_path=" + schema;
  return out + "options=" + quoted(extra_options);
}

void pg_exec(const std::string& dsn, const std::string& sql) {
  auto c = connect(dsn);
  run(c.get(), sql);
}

namespace {

int64_t first_int(PGconn* c, const std::string& sql) {
  auto res = run(c, sql);
  if (PQntuples(res.get()) == 0 || PQgetisnull(res.get(), 0, 0))
    return -1;
  return std::strtoll(PQgetvalue(res.get(), 0, 0), nullptr, 10);
}

} // namespace

int64_t pg_query_int(const std::string& dsn, const std::string& sql) {
  auto c = connect(dsn);
  return first_int(c.get(), sql);
}

struct pg_session::connection {
  conn_ptr c;
};

pg_session::pg_session(const std::string& dsn)
    : conn_(std::make_unique<connection>(connection{connect(dsn)})) {}

pg_session::~pg_session() = default;

void pg_session::exec(const std::string& sql) {
  run(conn_->c.get(), sql);
}

int64_t pg_session::query_int(const std::string& sql) {
  return first_int(conn_->c.get(), sql);
}

bool pg_session::try_exec(const std::string& sql) {
  result_ptr res{PQexec(conn_->c.get(), sql.c_str())};
  auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

pg_schema::pg_schema() : base_(pg_base_dsn()) {
  if (base_.empty())
    throw std::runtime_error(
        "no test PostgreSQL: set ARGUS_TEST_PG_DSN or run the tests through "
        "ctest, whose 'postgres' fixture starts one (tools/pg.sh)");
  name_ = random_name("argus_test");
  pg_exec(base_, "CREATE SCHEMA " + name_);
  dsn_ = pg_dsn_with_schema(base_, name_);
}

pg_schema::~pg_schema() {
  try {
    pg_exec(base_, "DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
  } catch (...) {
    // The server may be gone already; the throwaway cluster goes with it.
  }
}

} // namespace argus::test
