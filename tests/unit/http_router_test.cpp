// The front's route table (http/router.*): plain paths compared as strings,
// patterns matched as regexes, in the order they were added.

#include "http/router.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using argus::http::router;

/// A handler that writes its name into the body.
router::handler named(const std::string& name) {
  return [name](const httplib::Request&, httplib::Response& res) {
    res.body = name;
  };
}

std::string dispatched(const router& r, const std::string& method,
                       const std::string& path, std::string* group = nullptr) {
  httplib::Request req;
  req.method = method;
  req.path = path;
  httplib::Response res;
  if (!r.dispatch(req, res))
    return "none";
  if (group != nullptr && req.matches.size() > 1)
    *group = req.matches[1];
  return res.body;
}

} // namespace

TEST_CASE("routes match plain paths exactly and patterns whole", "[unit]") {
  router r;
  r.Post("/v1/events", named("one"))
      .Post("/v1/events/batch", named("batch"))
      .Get(R"(/v1/alerts/([^/]+))", named("alert"))
      .Get("/v1/alerts", named("alerts"))
      .Delete(R"(/v1/silences/([^/]+))", named("silence"));

  CHECK(dispatched(r, "POST", "/v1/events") == "one");
  CHECK(dispatched(r, "POST", "/v1/events/batch") == "batch");
  // A plain path matches whole, not as a prefix.
  CHECK(dispatched(r, "POST", "/v1/events/") == "none");
  CHECK(dispatched(r, "POST", "/v1/eventsX") == "none");
  CHECK(dispatched(r, "GET", "/v1/events") == "none");

  std::string id;
  CHECK(dispatched(r, "GET", "/v1/alerts/a-1", &id) == "alert");
  CHECK(id == "a-1");
  // A plain route after a regex route that was tried: no groups left
  // over from the attempt.
  {
    httplib::Request req;
    req.method = "GET";
    req.path = "/v1/alerts";
    httplib::Response res;
    REQUIRE(r.dispatch(req, res));
    CHECK(res.body == "alerts");
    CHECK(req.matches.empty());
  }
  CHECK(dispatched(r, "HEAD", "/v1/alerts") == "alerts");
  CHECK(dispatched(r, "GET", "/v1/alerts/a/b") == "none");

  CHECK(r.allowed("/v1/events") == "POST");
  CHECK(r.allowed("/v1/alerts/x") == "GET, HEAD");
  CHECK(r.allowed("/v1/silences/s") == "DELETE");
  CHECK(r.allowed("/nowhere").empty());
}

TEST_CASE("a pattern with regex syntax is matched as a regex", "[unit]") {
  // An escaped dot is regex syntax: this route goes through std::regex,
  // and its dot matches a dot only.
  router r;
  r.Get(R"(/ui/app\.js)", named("js"));
  CHECK(dispatched(r, "GET", "/ui/app.js") == "js");
  CHECK(dispatched(r, "GET", "/ui/appXjs") == "none");
}
