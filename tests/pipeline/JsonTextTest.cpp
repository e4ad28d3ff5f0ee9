#include <catch2/catch.hpp>

#include "pipeline/FlowRecord.hpp"
#include "pipeline/JsonText.hpp"

using namespace flowlier::pipeline;

TEST_CASE("JSON strings escape quotes, control bytes and invalid UTF-8", "[json]") {
  std::string out;
  static constexpr char input[] = "a\"b\\c\n\x01 \xc3\xa9 \xff";
  append_json_string(out, std::string_view(input, sizeof input - 1));
  CHECK(out == "\"a\\\"b\\\\c\\n\\u0001 \xc3\xa9 \xef\xbf\xbd\"");
}

TEST_CASE("extra fields accumulate as a JSON object body", "[json]") {
  FlowRecord r;
  r.add_extra("ecs-cluster-name", "prod");
  r.add_extra("odd", "x\"y");
  CHECK(r.extra == "\"ecs-cluster-name\":\"prod\",\"odd\":\"x\\\"y\"");
  r.reset();
  CHECK(r.extra.empty());
  CHECK(r.present == 0);
}

TEST_CASE("long symbols keep a readable prefix and a unique hash", "[symbol]") {
  Symbol a(std::string(80, 'a'));
  Symbol b(std::string(79, 'a') + "b");
  CHECK(a.size() <= Symbol::capacity);
  CHECK(a.view().substr(0, 30) == std::string(30, 'a'));
  CHECK_FALSE(a == b);
  CHECK(Symbol("eni-0a1b2c3d4e5f67890").view() == "eni-0a1b2c3d4e5f67890");
}
