#pragma once

#include <httplib.h>

#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace argus::http {

/// The route table of the HTTP front: the registration API of
/// `httplib::Server` (`Get`, `Post`, ... with a std::regex pattern matched
/// against the whole decoded path, the groups in `req.matches`), without
/// its sockets, so that requests read by our own front stage (http/front.*)
/// reach the same handlers. A pattern without regex syntax is compared as
/// a string (its `req.matches` stays empty: it has no groups).
class router {
public:
  using handler =
      std::function<void(const httplib::Request&, httplib::Response&)>;

  router& Get(const std::string& pattern, handler h);
  router& Post(const std::string& pattern, handler h);
  router& Put(const std::string& pattern, handler h);
  router& Patch(const std::string& pattern, handler h);
  router& Delete(const std::string& pattern, handler h);

  /// Runs the first route of the request's method (HEAD uses GET's) whose
  /// pattern matches the path; false when there is none.
  bool dispatch(httplib::Request& req, httplib::Response& res) const;

  /// The methods with a route for `path` ("GET, HEAD, POST"), for the
  /// `Allow` header of a 405; empty when no route matches the path.
  std::string allowed(const std::string& path) const;

private:
  struct route {
    std::regex pattern; ///< unless `literal` is set
    /// The pattern itself when it is a plain path: std::regex_match costs
    /// about a microsecond per route tried, on every request.
    std::optional<std::string> literal;
    handler run;

    bool matches(const std::string& path, std::smatch& groups) const;
  };

  router& add(const std::string& method, const std::string& pattern, handler h);

  std::map<std::string, std::vector<route>> routes_;
};

} // namespace argus::http
