#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "pipeline/Gzip.hpp"
#include "pipeline/InputFormat.hpp"
#include "pipeline/formats/Base64.hpp"
#include "tests/support/CollectingSink.hpp"

using namespace flowlier::pipeline;
using flowlier::pipeline::formats::base64_encode;
using flowlier::test::CollectingSink;
using flowlier::test::decode_all;
using flowlier::test::read_file;

namespace {

CollectingSink decode_firehose(std::string_view input) {
  CollectingSink sink;
  auto decoder = make_aws_firehose_decoder({});
  decoder->set_source_index(5);
  decode_all(*decoder, input, sink);
  return sink;
}

std::string request(const std::vector<std::string>& data) {
  std::string out = R"({"requestId":"r-1","timestamp":1578090901599,"records":[)";
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (i > 0) out += ",";
    out += R"({"data":")" + data[i] + R"("})";
  }
  return out + "]}";
}

const std::string kLine =
    "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT "
    "OK";

std::string cloudwatch_payload(const std::string& message) {
  return R"({"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":")" +
         message + R"("}]})";
}

}  // namespace

TEST_CASE("Firehose fixture: gzip'd CloudWatch, plain text, plain CloudWatch, control message", "[aws][firehose]") {
  const auto sink =
      decode_firehose(read_file(std::filesystem::path(FLOWLIER_TEST_DATA) / "aws" / "firehose_request.json"));
  REQUIRE(sink.rejects.empty());
  REQUIRE(sink.records.size() == 6);
  // Record 1: a gzip'd CloudWatch payload with three events.
  CHECK(sink.records[0].source_line == 1);
  CHECK(sink.records[0].srcport == 20641);
  CHECK(sink.records[2].status == LogStatus::nodata);
  CHECK(sink.records[2].source_line == 1);
  // Record 2: one plain flow log line.
  CHECK(sink.records[3].status == LogStatus::skipdata);
  CHECK(sink.records[3].source_line == 2);
  // Record 3: a CloudWatch payload, not compressed.
  CHECK(sink.records[4].source_line == 3);
  CHECK_FALSE(sink.records[4].srcaddr.is_v4());
  CHECK(sink.records[5].protocol == 1);
  CHECK(sink.records[5].source_index == 5);
}

TEST_CASE("Firehose: bad base64 and bad gzip are rejected, the next record still decodes", "[aws][firehose][errors]") {
  const std::string gz = gzip(cloudwatch_payload(kLine));
  const auto sink = decode_firehose(request({
      "not*base64",
      base64_encode(std::string("\x1f\x8b garbage that is not deflate", 30)),
      base64_encode(gz.substr(0, gz.size() / 2)),  // truncated gzip
      base64_encode(kLine + "\n" + kLine + "\n"),
      base64_encode(gz),
  }));
  REQUIRE(sink.rejects.size() == 3);
  CHECK(sink.rejects[0].reason == RejectReason::bad_encoding);
  CHECK(sink.rejects[0].line == 1);
  CHECK(sink.rejects[0].message.find("base64") != std::string::npos);
  CHECK(sink.rejects[1].reason == RejectReason::bad_encoding);
  CHECK(sink.rejects[1].line == 2);
  CHECK(sink.rejects[1].message.find("gzip") != std::string::npos);
  CHECK(sink.rejects[2].reason == RejectReason::bad_encoding);
  CHECK(sink.rejects[2].line == 3);
  REQUIRE(sink.records.size() == 3);
  CHECK(sink.records[0].source_line == 4);
  CHECK(sink.records[1].source_line == 4);
  CHECK(sink.records[2].source_line == 5);
}

TEST_CASE("Firehose: invalid JSON and wrong shapes", "[aws][firehose][errors]") {
  SECTION("invalid JSON") {
    const auto sink = decode_firehose(R"({"requestId": "r", "records": [{"data": "QQ=="})");
    REQUIRE(sink.rejects.size() == 1);
    CHECK(sink.rejects[0].reason == RejectReason::invalid_json);
  }
  SECTION("no records array") {
    const auto sink = decode_firehose(R"({"requestId": "r"})");
    REQUIRE(sink.rejects.size() == 1);
    CHECK(sink.rejects[0].message == "a Firehose request must be an object with a records array");
  }
  SECTION("a record without data") {
    const auto sink = decode_firehose(request({base64_encode(kLine)}) + "\n" + R"({"records":[{"nodata":1}]})");
    REQUIRE(sink.records.size() == 1);
    REQUIRE(sink.rejects.size() == 1);
    CHECK(sink.rejects[0].line == 2);  // records are counted across requests
    CHECK(sink.rejects[0].message == "Firehose record 2 has no data string");
  }
  SECTION("a CloudWatch payload inside a record that is not JSON") {
    const auto sink = decode_firehose(request({base64_encode("{not json")}));
    REQUIRE(sink.rejects.size() == 1);
    CHECK(sink.rejects[0].reason == RejectReason::invalid_json);
    CHECK(sink.rejects[0].line == 1);
  }
}
