// The JSON envelopes of http/errors.*: the accepted-event reply written by
// hand is byte for byte the one the DOM writer makes.

#include "http/errors.hpp"

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("the 202 for one event is the envelope reply_data writes", "[unit]") {
  // Plain, quotes and backslashes, control characters (DEL and '/' stay
  // as they are), non-ASCII text.
  for (std::string key : {"db-1", "say \"hi\" \\ there", "tab\there\x01\n",
                          "\r\b\f\x1f\x7f/", "grüße ✓", ""}) {
    INFO(key);
    httplib::Response by_hand;
    argus::http::reply_accepted(by_hand, key);
    httplib::Response by_dom;
    argus::http::reply_data(by_dom, 202,
                            {{"status", "accepted"}, {"dedupKey", key}});
    CHECK(by_hand.status == 202);
    CHECK(by_hand.body == by_dom.body);
    CHECK(by_hand.get_header_value("Content-Type") == "application/json");
    CHECK(nlohmann::json::parse(by_hand.body)["data"]["dedupKey"] == key);
  }
}
