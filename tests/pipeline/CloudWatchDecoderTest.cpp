#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "pipeline/Gzip.hpp"
#include "pipeline/InputFormat.hpp"
#include "tests/support/CollectingSink.hpp"

using namespace flowlier::pipeline;
using flowlier::test::CollectingSink;
using flowlier::test::decode_all;
using flowlier::test::read_file;

namespace {

std::filesystem::path fixture(const char* name) { return std::filesystem::path(FLOWLIER_TEST_DATA) / "aws" / name; }

CollectingSink decode_cloudwatch(std::string_view input, const DecoderOptions& options = {}) {
  CollectingSink sink;
  auto decoder = make_aws_cloudwatch_decoder(options);
  decoder->set_source_index(3);
  decode_all(*decoder, input, sink);
  return sink;
}

std::string payload(const std::string& events) {
  return R"({"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"flows","logStream":"eni-1",)"
         R"("subscriptionFilters":["f"],"logEvents":[)" +
         events + "]}";
}

std::string event(const std::string& message) {
  return R"({"id":"1","timestamp":1418530010000,"message":")" + message + R"("})";
}

const std::string kLine =
    "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT "
    "OK";

}  // namespace

TEST_CASE("CloudWatch fixture: several payloads one per line, CONTROL_MESSAGE skipped", "[aws][cloudwatch]") {
  const auto sink = decode_cloudwatch(read_file(fixture("cloudwatch_subscription.ndjson")));
  REQUIRE(sink.rejects.empty());
  REQUIRE(sink.records.size() == 5);
  CHECK(sink.records[0].srcaddr == *IpAddress::parse("172.31.16.139"));
  CHECK(sink.records[0].source_line == 1);
  CHECK(sink.records[0].source_index == 3);
  CHECK(sink.records[1].action == Action::reject);
  CHECK(sink.records[2].status == LogStatus::nodata);
  CHECK(sink.records[3].source_line == 4);  // event ordinals run on across payloads
  CHECK_FALSE(sink.records[3].srcaddr.is_v4());
  CHECK(sink.records[4].protocol == 1);
}

TEST_CASE("CloudWatch fixture: a gzip'd, pretty-printed payload", "[aws][cloudwatch]") {
  const std::string gz = read_file(fixture("cloudwatch_subscription.json.gz"));
  REQUIRE(looks_gzipped(gz));
  const auto sink = decode_cloudwatch(gz);
  REQUIRE(sink.rejects.empty());
  REQUIRE(sink.records.size() == 3);
  CHECK(sink.records[1].dstport == 3389);
}

TEST_CASE("CloudWatch: configured format, bad messages and events without a message", "[aws][cloudwatch]") {
  DecoderOptions options;
  options.aws_fields = "${srcaddr} ${dstaddr} ${bytes}";
  const auto sink =
      decode_cloudwatch(gzip(payload(event("10.0.0.1 10.0.0.2 100") + "," + event("10.0.0.1 10.0.0.2 lots") + "," +
                                     R"({"id":"3","timestamp":1})" + "," + event("10.0.0.3 10.0.0.4 7\\n"))),
                        options);
  REQUIRE(sink.records.size() == 2);
  CHECK(sink.records[0].bytes == 100);
  CHECK(sink.records[1].bytes == 7);  // a trailing newline in the message is tolerated
  CHECK(sink.records[1].source_line == 4);
  REQUIRE(sink.rejects.size() == 2);
  CHECK(sink.rejects[0].reason == RejectReason::bad_number);
  CHECK(sink.rejects[0].line == 2);
  CHECK(sink.rejects[0].message == R"(field 'bytes' (3): "lots" is not an unsigned integer)");
  CHECK(sink.rejects[1].reason == RejectReason::invalid_json);
  CHECK(sink.rejects[1].line == 3);
  CHECK(sink.rejects[1].message == "CloudWatch Logs log event 3 has no message string");
}

TEST_CASE("CloudWatch: invalid JSON is rejected with a message", "[aws][cloudwatch][errors]") {
  SECTION("not JSON at all") {
    const auto sink = decode_cloudwatch("this is not json\n");
    CHECK(sink.records.empty());
    REQUIRE(sink.rejects.size() == 1);
    CHECK(sink.rejects[0].reason == RejectReason::invalid_json);
    CHECK(sink.rejects[0].message.rfind("invalid JSON", 0) == 0);
  }
  SECTION("a truncated document after a good one") {
    const std::string good = payload(event(kLine));
    const auto sink = decode_cloudwatch(good + "\n" + good.substr(0, good.size() / 2));
    REQUIRE(sink.records.size() == 1);
    REQUIRE(sink.rejects.size() == 1);
    CHECK(sink.rejects[0].reason == RejectReason::invalid_json);
    CHECK(sink.rejects[0].line == 2);
    CHECK(sink.rejects[0].raw.size() <= 200);
  }
  SECTION("wrong shapes") {
    const auto sink = decode_cloudwatch("[1,2]\n{\"messageType\":\"DATA_MESSAGE\"}\n{\"logEvents\":{}}\n");
    REQUIRE(sink.rejects.size() == 3);
    CHECK(sink.rejects[0].message == "a CloudWatch Logs payload must be a JSON object");
    CHECK(sink.rejects[1].message == "CloudWatch Logs payload has no logEvents array");
    CHECK(sink.rejects[1].line == 2);
    CHECK(sink.rejects[2].reason == RejectReason::invalid_json);
  }
  SECTION("empty input gives nothing") {
    const auto sink = decode_cloudwatch("  \n");
    CHECK(sink.records.empty());
    CHECK(sink.rejects.empty());
  }
}

TEST_CASE("CloudWatch: a truncated gzip payload is bad_encoding", "[aws][cloudwatch][errors]") {
  const std::string gz = gzip(payload(event(kLine) + "," + event(kLine)));
  const auto sink = decode_cloudwatch(gz.substr(0, gz.size() - 12));
  CHECK(sink.records.empty());
  REQUIRE(sink.rejects.size() == 1);
  CHECK(sink.rejects[0].reason == RejectReason::bad_encoding);
  CHECK_FALSE(sink.rejects[0].message.empty());
}

TEST_CASE("CloudWatch: input over max_document_bytes is refused whole", "[aws][cloudwatch][errors]") {
  DecoderOptions options;
  options.max_document_bytes = 100;
  const auto sink = decode_cloudwatch(payload(event(kLine)), options);
  CHECK(sink.records.empty());
  REQUIRE(sink.rejects.size() == 1);
  CHECK(sink.rejects[0].reason == RejectReason::line_too_long);
  CHECK(sink.rejects[0].raw.size() <= 200);
}
