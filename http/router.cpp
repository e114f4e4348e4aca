#include "http/router.hpp"

namespace argus::http {

router& router::Get(const std::string& pattern, handler h) {
  return add("GET", pattern, std::move(h));
}

router& router::Post(const std::string& pattern, handler h) {
  return add("POST", pattern, std::move(h));
}

router& router::Put(const std::string& pattern, handler h) {
  return add("PUT", pattern, std::move(h));
}

router& router::Patch(const std::string& pattern, handler h) {
  return add("PATCH", pattern, std::move(h));
}

router& router::Delete(const std::string& pattern, handler h) {
  return add("DELETE", pattern, std::move(h));
}

router& router::add(const std::string& method, const std::string& pattern,
                    handler h) {
  route r;
  if (pattern.find_first_of(R"(\^$.|?*+()[]{})") == std::string::npos)
    r.literal = pattern;
  else
    r.pattern = std::regex{pattern};
  r.run = std::move(h);
  routes_[method].push_back(std::move(r));
  return *this;
}

bool router::route::matches(const std::string& path,
                            std::smatch& groups) const {
  if (!literal)
    return std::regex_match(path, groups, pattern);
  groups = std::smatch{};
  return path == *literal;
}

bool router::dispatch(httplib::Request& req, httplib::Response& res) const {
  auto i = routes_.find(req.method == "HEAD" ? "GET" : req.method);
  if (i == routes_.end())
    return false;
  for (auto& r : i->second) {
    if (r.matches(req.path, req.matches)) {
      r.run(req, res);
      return true;
    }
  }
  return false;
}

std::string router::allowed(const std::string& path) const {
  std::string methods;
  auto add = [&](const std::string& method) {
    methods += methods.empty() ? "" : ", ";
    methods += method;
  };
  for (auto& [method, list] : routes_) {
    for (auto& r : list) {
      std::smatch ignored;
      if (r.matches(path, ignored)) {
        add(method);
        if (method == "GET")
          add("HEAD");
        break;
      }
    }
  }
  return methods;
}

} // namespace argus::http
