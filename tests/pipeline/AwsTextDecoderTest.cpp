#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "pipeline/InputFormat.hpp"
#include "pipeline/formats/AwsTextDecoder.hpp"
#include "tests/support/CollectingSink.hpp"
#include "tests/support/SharedData.hpp"

using namespace flowlier::pipeline;
using flowlier::test::CollectingSink;
using flowlier::test::decode_all;
using flowlier::test::read_file;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

std::filesystem::path aws_sample(const char* name) {
  return std::filesystem::path(FLOWLIER_SHARED_DATA) / "samples" / "aws" / name;
}


IpAddress ip(std::string_view text) {
  auto parsed = IpAddress::parse(text);
  REQUIRE(parsed);
  return *parsed;
}

CollectingSink decode_text(std::string_view text, const DecoderOptions& options = {}) {
  CollectingSink sink;
  auto decoder = make_aws_text_decoder(options);
  decode_all(*decoder, text, sink);
  return sink;
}

CollectingSink decode_file(const std::filesystem::path& path, const DecoderOptions& options = {}) {
  return decode_text(read_file(path), options);
}

const char* kV2Line =
    "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT "
    "OK";

}  // namespace

TEST_CASE("AWS v2 default sample: values, NODATA/SKIPDATA, ICMP and IPv6", "[aws]") {
  const auto path = aws_sample("v2_default.log");
  REQUIRE_SAMPLE(path);
  const auto sink = decode_file(path);
  REQUIRE(sink.rejects.empty());
  REQUIRE(sink.records.size() == 7);

  const FlowRecord& first = sink.records[0];
  CHECK(first.format == Format::aws_vpc);
  CHECK(first.version == 2);
  CHECK(first.has(Field::version));
  CHECK(first.account_id.view() == "123456789010");
  CHECK(first.interface_id.view() == "eni-1235b8ca123456789");
  CHECK(first.srcaddr == ip("172.31.16.139"));
  CHECK(first.dstaddr == ip("172.31.16.21"));
  CHECK(first.srcport == 20641);
  CHECK(first.dstport == 22);
  CHECK(first.protocol == 6);
  CHECK(first.packets == 20);
  CHECK(first.bytes == 4249);
  CHECK(first.start_ns == 1418530010 * kSecond);
  CHECK(first.end_ns == 1418530070 * kSecond);
  CHECK(first.action == Action::accept);
  CHECK(first.status == LogStatus::ok);
  CHECK(first.source_line == 2);  // line 1 is the header
  CHECK(first.extra.empty());

  CHECK(sink.records[1].action == Action::reject);
  CHECK(sink.records[1].dstport == 3389);

  const FlowRecord& nodata = sink.records[2];
  CHECK(nodata.status == LogStatus::nodata);
  CHECK_FALSE(nodata.is_traffic());
  CHECK(nodata.action == Action::unknown);
  CHECK_FALSE(nodata.has(Field::srcaddr));
  CHECK_FALSE(nodata.has(Field::packets));
  CHECK_FALSE(nodata.has(Field::protocol));
  CHECK(nodata.has(Field::start));
  CHECK(nodata.end_ns == 1431280934 * kSecond);
  CHECK(nodata.source_line == 4);

  const FlowRecord& skip = sink.records[3];
  CHECK(skip.status == LogStatus::skipdata);
  CHECK(skip.interface_id.view() == "eni-11111111aaaaaaaaa");

  const FlowRecord& icmp = sink.records[4];
  CHECK(icmp.protocol == 1);
  CHECK(icmp.has(Field::srcport));
  CHECK(icmp.srcport == 0);
  CHECK(icmp.bytes == 336);

  const FlowRecord& v6 = sink.records[6];
  CHECK_FALSE(v6.srcaddr.is_v4());
  CHECK(v6.srcaddr == ip("2001:db8:1234:a100:8d6e:3477:df66:f105"));
  CHECK(v6.dstaddr == ip("2001:db8:1234:a102:3304:8879:34cf:4071"));
  CHECK(v6.bytes == 8855);
  CHECK(v6.source_line == 8);
}

TEST_CASE("AWS v3 tcp-flag sample: custom field order from the header", "[aws]") {
  const auto path = aws_sample("v3_tcp_flag_sequence.log");
  REQUIRE_SAMPLE(path);
  const auto sink = decode_file(path);
  REQUIRE(sink.rejects.empty());
  REQUIRE(sink.records.size() == 8);
  const FlowRecord& r = sink.records[0];
  CHECK(r.version == 3);
  CHECK(r.vpc_id.view() == "vpc-abcdefab012345678");
  CHECK(r.subnet_id.view() == "subnet-aaaaaaaa012345678");
  CHECK(r.instance_id.view() == "i-01234567890123456");
  CHECK(r.traffic_type == TrafficType::ipv4);
  CHECK(r.srcaddr == ip("52.213.180.42"));
  CHECK(r.pkt_dstaddr == ip("10.0.0.62"));
  CHECK(r.has(Field::pkt_srcaddr));
  // bytes comes before packets in this format.
  CHECK(r.bytes == 568);
  CHECK(r.packets == 8);
  CHECK(r.tcp_flags == 2);
  CHECK(r.has(Field::tcp_flags));
  CHECK(sink.records[1].tcp_flags == 18);
  CHECK(sink.records[5].bytes == 23294588);
  CHECK(sink.records[5].packets == 15774);
  CHECK(sink.records[7].tcp_flags == 19);
}

TEST_CASE("AWS v3 transit gateway sample: no times, requester-managed instance", "[aws]") {
  const auto path = aws_sample("v3_transit_gateway_custom.log");
  REQUIRE_SAMPLE(path);
  const auto sink = decode_file(path);
  REQUIRE(sink.rejects.empty());
  REQUIRE(sink.records.size() == 4);
  CHECK_FALSE(sink.records[0].has(Field::start));
  CHECK_FALSE(sink.records[0].has(Field::packets));
  CHECK(sink.records[0].interface_id.view() == "eni-33333333333333333");
  CHECK(sink.records[2].instance_id.empty());
  CHECK(sink.records[2].pkt_srcaddr == ip("10.20.33.164"));
  CHECK(sink.records[2].srcaddr == ip("10.40.1.175"));
}

TEST_CASE("AWS custom NAT gateway sample: six fields, no version", "[aws]") {
  const auto path = aws_sample("custom_nat_gateway.log");
  REQUIRE_SAMPLE(path);
  const auto sink = decode_file(path);
  REQUIRE(sink.rejects.empty());
  REQUIRE(sink.records.size() == 6);
  CHECK(sink.records[0].instance_id.empty());
  CHECK(sink.records[0].pkt_dstaddr == ip("203.0.113.5"));
  CHECK_FALSE(sink.records[0].has(Field::version));
  CHECK(sink.records[4].instance_id.view() == "i-01234567890123456");
  CHECK(sink.records[4].interface_id.view() == "eni-1111aaaa2222bbbb3");
}

TEST_CASE("AWS v5 sample: region, services, traffic path and direction", "[aws]") {
  const auto path = aws_sample("v5_service_path_direction.log");
  REQUIRE_SAMPLE(path);
  const auto sink = decode_file(path);
  REQUIRE(sink.rejects.empty());
  REQUIRE(sink.records.size() == 2);
  const FlowRecord& in = sink.records[0];
  CHECK(in.version == 5);
  CHECK(in.region.view() == "ap-southeast-2");
  CHECK(in.az_id.view() == "apse2-az3");
  CHECK(in.pkt_src_aws_service.view() == "S3");
  CHECK(in.pkt_dst_aws_service.empty());
  CHECK(in.direction == Direction::ingress);
  CHECK_FALSE(in.has(Field::traffic_path));
  CHECK(in.extra.empty());  // sublocation-type and -id are "-"
  const FlowRecord& out = sink.records[1];
  CHECK(out.direction == Direction::egress);
  CHECK(out.traffic_path == 8);
  CHECK(out.has(Field::traffic_path));
  CHECK(out.packets == 7);
  CHECK(out.bytes == 471);
}

TEST_CASE("AWS test samples: header with NODATA/SKIPDATA and services, repeated headers", "[aws]") {
  {
    const auto path = aws_sample("aws-test_flow_logs.log");
    REQUIRE_SAMPLE(path);
    const auto sink = decode_file(path);  // no newline after the last line
    REQUIRE(sink.rejects.empty());
    REQUIRE(sink.records.size() == 6);
    CHECK(sink.records[0].pkt_dst_aws_service.view() == "EC2");
    CHECK(sink.records[0].pkt_dstaddr == ip("3.75.6.195"));
    CHECK(sink.records[1].status == LogStatus::nodata);
    CHECK(sink.records[2].pkt_src_aws_service.view() == "AMAZON");
    CHECK(sink.records[3].status == LogStatus::skipdata);
    CHECK(sink.records[4].bytes == 40672);
    CHECK(sink.records[5].srcaddr == ip("85.214.204.244"));
    CHECK(sink.records[5].source_line == 7);
  }
  {
    const auto path = aws_sample("test-tcp-flag-sequence.log");
    REQUIRE_SAMPLE(path);
    const auto sink = decode_file(path);
    REQUIRE(sink.rejects.empty());
    REQUIRE(sink.records.size() == 3);  // three headers, each followed by one record
    CHECK(sink.records[0].status == LogStatus::ok);
    CHECK(sink.records[1].status == LogStatus::skipdata);
    CHECK(sink.records[1].source_line == 4);
    CHECK(sink.records[2].status == LogStatus::nodata);
    CHECK(sink.records[2].vpc_id.view() == "vpc-abcdefab012345678");
  }
  {
    const auto path = aws_sample("aws-flow-logs-10.3.11.57-142.250.185.91.log");
    REQUIRE_SAMPLE(path);
    const auto sink = decode_file(path);
    REQUIRE(sink.rejects.empty());
    REQUIRE(sink.records.size() == 31);
    CHECK(sink.records[0].pkt_srcaddr == ip("142.250.185.91"));
    CHECK(sink.records[0].srcaddr == ip("10.63.37.34"));
    CHECK(sink.records[17].packets == 778);
    CHECK(sink.records[17].bytes == 119099);
  }
}

TEST_CASE("AWS headerless samples with the default or a configured format", "[aws]") {
  {
    const auto path = aws_sample("test-extra-samples.log");
    REQUIRE_SAMPLE(path);
    const auto sink = decode_file(path);  // no header: default v2
    REQUIRE(sink.rejects.empty());
    REQUIRE(sink.records.size() == 7);
    CHECK(sink.records[0].source_line == 1);
    CHECK_FALSE(sink.records[0].srcaddr.is_v4());
    CHECK(sink.records[2].status == LogStatus::skipdata);
    CHECK(sink.records[6].action == Action::reject);
  }
  {
    const auto path = aws_sample("test-v5-all-fields.log");
    REQUIRE_SAMPLE(path);
    DecoderOptions options;
    options.aws_fields =
        "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} "
        "${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} "
        "${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${sublocation-type} ${sublocation-id} "
        "${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path}";
    const auto sink = decode_file(path, options);
    REQUIRE(sink.rejects.empty());
    REQUIRE(sink.records.size() == 1);
    const FlowRecord& r = sink.records[0];
    CHECK(r.account_id.view() == "64111117617");
    CHECK(r.protocol == 17);
    CHECK(r.start_ns == 164000066 * kSecond);
    CHECK(r.region.view() == "us-east-1");
    CHECK(r.pkt_dst_aws_service.view() == "CLOUDFRONT");
    CHECK(r.traffic_path == 1);
    CHECK(r.direction == Direction::ingress);
  }
  {
    const auto path = aws_sample("test-v8-samples.log");
    REQUIRE_SAMPLE(path);
    DecoderOptions options;
    options.aws_fields =
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
        "log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type "
        "sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path ecs-cluster-arn "
        "ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id ecs-container-id "
        "ecs-second-container-id ecs-service-name ecs-task-definition-arn ecs-task-arn ecs-task-id reject-reason";
    const auto sink = decode_file(path, options);
    REQUIRE(sink.rejects.empty());
    REQUIRE(sink.records.size() == 1);
    const FlowRecord& r = sink.records[0];
    CHECK(r.status == LogStatus::nodata);
    CHECK(r.action == Action::reject);
    CHECK(r.interface_id.empty());
    CHECK(r.srcaddr == ip("2a02:cf40::"));
    CHECK(r.rule.view() == "BPA");
    CHECK(r.direction == Direction::ingress);
    CHECK(r.extra.find("\"ecs-cluster-name\":\"backend-cluster\"") != std::string::npos);
    CHECK(r.extra.find("\"ecs-service-name\":\"payments-service\"") != std::string::npos);
    CHECK(r.extra.find("\"ecs-task-id\":\"e504f037-35c\"") != std::string::npos);
    CHECK(r.extra.find("sublocation") == std::string::npos);  // "-" values are not kept
  }
}

// The golden cases of aws-vpc-flow-logs.yml (elastic/beats): each case's format and
// samples, read with a minimal reader for this file's layout.
TEST_CASE("AWS golden cases from aws-vpc-flow-logs.yml decode without rejects", "[aws]") {
  const auto path = aws_sample("aws-vpc-flow-logs.yml");
  REQUIRE_SAMPLE(path);
  std::ifstream in(path);
  struct Case {
    std::string format;
    std::vector<std::string> samples;
  };
  std::map<std::string, Case> cases;
  std::string current, line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != ' ' && line[0] != '#' && line.back() == ':') {
      current = line.substr(0, line.size() - 1);
    } else if (!line.empty() && line[0] != ' ' && line.find(": &") != std::string::npos) {
      current = line.substr(0, line.find(':'));
    } else if (line.rfind("  format: ", 0) == 0) {
      cases[current].format = line.substr(10);
    } else if (line.rfind("    - ", 0) == 0) {
      std::string sample = line.substr(6);
      if (sample.size() >= 2 && sample.front() == '\'') sample = sample.substr(1, sample.rfind('\'') - 1);
      if (const auto comment = sample.find(" #"); comment != std::string::npos) sample.resize(comment);
      cases[current].samples.push_back(sample);
    }
  }
  REQUIRE(cases.size() >= 8);
  std::map<std::string, CollectingSink> results;
  for (const auto& [name, c] : cases) {
    if (c.samples.empty()) continue;
    INFO("case " << name);
    DecoderOptions options;
    options.aws_fields = c.format;
    std::string text;
    for (const auto& s : c.samples) text += s + "\n";
    auto sink = decode_text(text, options);
    for (const auto& r : sink.rejects) INFO(r.message);
    CHECK(sink.rejects.empty());
    CHECK(sink.records.size() == c.samples.size());
    results[name] = std::move(sink);
  }
  // A few values, including the sample with a double space.
  REQUIRE(results["tcp-flag-sequence"].records.size() == 8);
  CHECK(results["tcp-flag-sequence"].records[7].dstport == 43638);
  CHECK(results["tcp-flag-sequence"].records[7].pkt_srcaddr == ip("10.0.0.62"));
  CHECK(results["tcp-flag-sequence"].records[7].tcp_flags == 19);
  REQUIRE(results["v5-fields-original"].records.size() == 1);
  CHECK(results["v5-fields-original"].records[0].extra ==
        R"("sublocation-type":"wavelength","sublocation-id":"fake-id")");
  REQUIRE(results["v6-fields-original"].records.size() == 1);
  const FlowRecord& tgw = results["v6-fields-original"].records[0];
  CHECK(tgw.srcaddr == ip("10.100.8.1"));
  CHECK(tgw.dstport == 53);
  CHECK(tgw.extra.find(R"("resource-type":"TransitGateway")") != std::string::npos);
  CHECK(tgw.extra.find(R"("packets-lost-mtu-exceeded":"2")") != std::string::npos);
  REQUIRE(results["v7-fields-original"].records.size() == 1);
  CHECK(results["v7-fields-original"].records[0].extra.find(R"("ecs-service-name":"cats")") != std::string::npos);
  CHECK(results["v7-fields-original"].records[0].extra.find("ecs-second-container-id") == std::string::npos);
}

TEST_CASE("AWS project fixture: CRLF, blank lines, double spaces, tabs, header changes", "[aws]") {
  const auto sink = decode_file(std::filesystem::path(FLOWLIER_TEST_DATA) / "aws" / "mixed_headers.log");
  REQUIRE(sink.records.size() == 5);
  REQUIRE(sink.rejects.size() == 1);
  CHECK(sink.records[0].source_line == 2);
  CHECK(sink.records[0].action == Action::accept);  // "OK\r" read as OK
  CHECK(sink.records[1].source_line == 4);
  CHECK(sink.records[1].srcaddr == ip("172.31.9.69"));  // after a double space
  CHECK(sink.records[2].source_line == 7);
  CHECK(sink.records[2].direction == Direction::egress);
  CHECK(sink.records[2].traffic_path == 8);
  CHECK(sink.records[2].extra == R"("custom-tag":"blue")");
  CHECK(sink.records[3].srcport == 80);  // tab-separated
  CHECK(sink.records[3].extra.empty());
  CHECK_FALSE(sink.records[3].has(Field::traffic_path));
  CHECK(sink.rejects[0].reason == RejectReason::header_mismatch);
  CHECK(sink.rejects[0].line == 9);
  CHECK(sink.rejects[0].message.find("'version' is repeated") != std::string::npos);
  // The previous field order stays in force after the refused header.
  CHECK(sink.records[4].source_line == 10);
  CHECK(sink.records[4].extra == R"("custom-tag":"red")");
  CHECK(sink.records[4].dstport == 443);
}

TEST_CASE("AWS text: line numbers follow feed chunks, source index is set", "[aws]") {
  auto decoder = make_aws_text_decoder({});
  decoder->set_source_index(7);
  CollectingSink sink;
  const std::string line = std::string(kV2Line) + "\n";
  decoder->feed(line + "\n" + line, 10, sink);
  decoder->feed(line, 13, sink);
  decoder->finish(sink);
  REQUIRE(sink.records.size() == 3);
  CHECK(sink.records[0].source_line == 10);
  CHECK(sink.records[1].source_line == 12);
  CHECK(sink.records[2].source_line == 13);
  CHECK(sink.records[2].source_index == 7);
}

TEST_CASE("AWS text: a record does not inherit fields of the previous one", "[aws]") {
  const auto sink = decode_text(
      "version srcaddr packets account-id other\n"
      "2 10.0.0.1 5 111 x\n"
      "2 - - - -\n");
  REQUIRE(sink.records.size() == 2);
  CHECK(sink.records[0].extra == R"("other":"x")");
  const FlowRecord& second = sink.records[1];
  CHECK_FALSE(second.has(Field::srcaddr));
  CHECK(second.srcaddr == IpAddress{});
  CHECK(second.packets == 0);
  CHECK(second.account_id.empty());
  CHECK(second.extra.empty());
}

TEST_CASE("AWS text: every reject class, with the field and value named", "[aws][errors]") {
  struct Bad {
    const char* line;
    RejectReason reason;
    const char* message;
  };
  const Bad cases[] = {
      {"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641", RejectReason::wrong_field_count,
       "line has 6 fields but the format has 14"},
      {"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK extra",
       RejectReason::wrong_field_count, "line has 15 fields but the format has 14"},
      {"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 2x0 4249 1418530010 1418530070 ACCEPT OK",
       RejectReason::bad_number, R"(field 'packets' (9): "2x0" is not an unsigned integer)"},
      {"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 -5 1418530010 1418530070 ACCEPT OK",
       RejectReason::bad_number, R"(field 'bytes' (10): "-5" is not an unsigned integer)"},
      {"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 18446744073709551616 1418530010 1418530070 "
       "ACCEPT OK",
       RejectReason::bad_number, R"(field 'bytes' (10): "18446744073709551616" is not an unsigned integer)"},
      {"v2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
       RejectReason::bad_number, R"(field 'version' (1): "v2" is not an unsigned integer)"},
      {"2 123456789010 eni-1 172.31.16.139 172.31.16.21 70000 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
       RejectReason::bad_port, R"(field 'srcport' (6): "70000" is not a port)"},
      {"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 http 6 20 4249 1418530010 1418530070 ACCEPT OK",
       RejectReason::bad_port, R"(field 'dstport' (7): "http" is not a port)"},
      {"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 256 20 4249 1418530010 1418530070 ACCEPT OK",
       RejectReason::bad_protocol, R"(field 'protocol' (8): "256" is not a protocol number)"},
      {"2 123456789010 eni-1 172.31.16.300 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
       RejectReason::bad_address, R"(field 'srcaddr' (4): "172.31.16.300" is not an IP address)"},
      {"2 123456789010 eni-1 172.31.16.139 172.31.16 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
       RejectReason::bad_address, R"(field 'dstaddr' (5): "172.31.16" is not an IP address)"},
      {"2 123456789010 eni-1 172.31.16.139 2001:db8::zz 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
       RejectReason::bad_address, R"(field 'dstaddr' (5): "2001:db8::zz" is not an IP address)"},
      {"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530070 1418530010 ACCEPT OK",
       RejectReason::bad_time, R"(field 'end' (12): "1418530010" is before start)"},
      {"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 99999999999 99999999999 ACCEPT OK",
       RejectReason::bad_time, R"(field 'start' (11): "99999999999" is not a Unix time in seconds)"},
      {"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 yesterday 1418530010 ACCEPT OK",
       RejectReason::bad_number, R"(field 'start' (11): "yesterday" is not an unsigned integer)"},
      {"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ALLOW OK",
       RejectReason::bad_value, R"(field 'action' (13): "ALLOW" is not ACCEPT or REJECT)"},
      {"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT FINE",
       RejectReason::bad_value, R"(field 'log-status' (14): "FINE" is not OK, NODATA or SKIPDATA)"},
  };
  for (const auto& bad : cases) {
    INFO(bad.line);
    const auto sink = decode_text(std::string(bad.line) + "\n" + kV2Line + "\n");
    REQUIRE(sink.rejects.size() == 1);
    CHECK(sink.rejects[0].reason == bad.reason);
    CHECK(sink.rejects[0].message == bad.message);
    CHECK(sink.rejects[0].line == 1);
    CHECK(sink.rejects[0].raw == bad.line);
    // The next line still parses, with nothing left over from the refused one.
    REQUIRE(sink.records.size() == 1);
    CHECK(sink.records[0].source_line == 2);
    CHECK(sink.records[0].srcport == 20641);
  }
}

TEST_CASE("AWS text: bad values of v3+ enumerations", "[aws][errors]") {
  const std::string header = "version flow-direction type tcp-flags traffic-path\n";
  const std::pair<const char*, const char*> cases[] = {
      {"5 sideways IPv4 2 1", R"(field 'flow-direction' (2): "sideways" is not ingress or egress)"},
      {"5 ingress IPv5 2 1", R"(field 'type' (3): "IPv5" is not IPv4, IPv6 or EFA)"},
      {"5 ingress EFA 65536 1", R"(field 'tcp-flags' (4): "65536" is not a TCP flag mask)"},
      {"5 ingress IPv6 2 999", R"(field 'traffic-path' (5): "999" is not a traffic path code)"},
      {"300 ingress IPv6 2 1", R"(field 'version' (1): "300" is not a format version)"},
  };
  for (const auto& [line, message] : cases) {
    INFO(line);
    const auto sink = decode_text(header + line + "\n");
    REQUIRE(sink.rejects.size() == 1);
    CHECK(sink.rejects[0].message == message);
    CHECK(sink.records.empty());
  }
  const auto ok = decode_text(header + "5 egress EFA 3 7\n");
  REQUIRE(ok.records.size() == 1);
  CHECK(ok.records[0].traffic_type == TrafficType::efa);
  CHECK(ok.records[0].tcp_flags == 3);
  CHECK(ok.records[0].traffic_path == 7);
}

TEST_CASE("AWS text: header/format mismatch", "[aws][errors]") {
  SECTION("records with more fields than the header") {
    const auto sink = decode_text(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
        "log-status\n"
        "5 123456789012 eni-0d6bdc1a4942cb767 10.63.37.34 10.3.11.57 443 44160 6 6 737 1754322586 1754322617 ACCEPT "
        "OK 142.250.185.91 10.3.11.57 - -\n");
    REQUIRE(sink.rejects.size() == 1);
    CHECK(sink.rejects[0].reason == RejectReason::wrong_field_count);
    CHECK(sink.rejects[0].message == "line has 18 fields but the format has 14");
    CHECK(sink.rejects[0].line == 2);
  }
  SECTION("a header repeating a field is refused and the previous order kept") {
    const auto sink = decode_text(
        "srcaddr dstaddr\n"
        "10.0.0.1 10.0.0.2\n"
        "srcaddr srcaddr\n"
        "10.0.0.3 10.0.0.4\n");
    REQUIRE(sink.rejects.size() == 1);
    CHECK(sink.rejects[0].reason == RejectReason::header_mismatch);
    CHECK(sink.rejects[0].line == 3);
    REQUIRE(sink.records.size() == 2);
    CHECK(sink.records[1].dstaddr == ip("10.0.0.4"));
  }
  SECTION("a header of unknown names that include known ones is a header") {
    const auto sink = decode_text(
        "resource-type tgw-id srcaddr dstaddr\n"
        "TransitGateway tgw-1 10.0.0.1 10.0.0.2\n");
    REQUIRE(sink.rejects.empty());
    REQUIRE(sink.records.size() == 1);
    CHECK(sink.records[0].extra == R"("resource-type":"TransitGateway","tgw-id":"tgw-1")");
  }
  SECTION("an invalid configured format refuses headerless lines until a header comes") {
    DecoderOptions options;
    options.aws_fields = "version ${srcaddr";
    const auto sink = decode_text(std::string(kV2Line) + "\nsrcaddr\n10.0.0.1\n", options);
    REQUIRE(sink.rejects.size() == 1);
    CHECK(sink.rejects[0].reason == RejectReason::header_mismatch);
    CHECK(sink.rejects[0].message.find("aws_fields") != std::string::npos);
    REQUIRE(sink.records.size() == 1);
    CHECK(sink.records[0].srcaddr == ip("10.0.0.1"));
  }
}

TEST_CASE("AWS text: a 10 MB line is refused whole, truncated in the reject, and the next line parses",
          "[aws][errors]") {
  std::string input(10 << 20, '7');
  input += "\n";
  input += kV2Line;
  input += "\n";
  const auto sink = decode_text(input);
  REQUIRE(sink.rejects.size() == 1);
  CHECK(sink.rejects[0].reason == RejectReason::line_too_long);
  CHECK(sink.rejects[0].line == 1);
  CHECK(sink.rejects[0].raw.size() <= formats::AwsTextDecoder::kMaxRawBytes);
  CHECK(sink.rejects[0].message == "line is 10485760 bytes, over the limit of 1048576");
  REQUIRE(sink.records.size() == 1);
  CHECK(sink.records[0].source_line == 2);
}

TEST_CASE("AWS text: long lines under the limit split across 64-byte blocks", "[aws]") {
  // Tokens that straddle block boundaries, and a line ending exactly on one.
  const std::string long_id(70, 'x');
  const std::string line = "interface-id srcaddr\n" + long_id + "   10.1.2.3\n" + std::string(58, 'y') + " 1.2.3.4";
  REQUIRE(line.size() - line.find('\n', 25) - 1 == 66);
  const auto sink = decode_text(line);
  REQUIRE(sink.rejects.empty());
  REQUIRE(sink.records.size() == 2);
  CHECK(sink.records[0].interface_id.view().substr(0, 30) == long_id.substr(0, 30));
  CHECK(sink.records[0].srcaddr == ip("10.1.2.3"));
  CHECK(sink.records[1].srcaddr == ip("1.2.3.4"));

  // 64 bytes exactly, the last token running to the end of the block.
  const std::string exact = std::string(56, 'z') + " 1.2.3.4";
  REQUIRE(exact.size() == 64);
  const auto sink2 = decode_text("interface-id srcaddr\n" + exact);
  REQUIRE(sink2.records.size() == 1);
  CHECK(sink2.records[0].srcaddr == ip("1.2.3.4"));
}

TEST_CASE("AWS text: numbers and addresses read the same at a buffer's end and inside it", "[aws]") {
  // The fast paths read 8 or 16 bytes past a token when the buffer allows; the last
  // line of a chunk takes the byte-wise paths. Both must agree, digit count by count.
  std::string numbers = "1";
  for (int digits = 1; digits <= 20; ++digits) {
    const std::string line = "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 " + numbers + " " + numbers + " 1 1 ACCEPT OK";
    INFO(line);
    const auto inside = decode_text(line + "\n" + line + "\n" + std::string(64, ' ') + "\n");
    auto decoder = formats::AwsTextDecoder(DecoderOptions{});
    CollectingSink at_end;
    decoder.decode_line(line, 1, at_end);
    REQUIRE(inside.records.size() == 2);
    REQUIRE(at_end.records.size() == 1);
    CHECK(inside.records[0].packets == at_end.records[0].packets);
    CHECK(inside.records[0].bytes == at_end.records[0].bytes);
    CHECK(std::to_string(at_end.records[0].packets) == numbers);
    numbers += std::to_string((digits + 1) % 10);
    if (digits == 19) numbers = "18446744073709551615";
  }
  const char* addresses[] = {"0.0.0.0", "1.2.3.4", "255.255.255.255", "10.200.0.80", "001.02.3.004", "9.99.199.249"};
  for (const char* address : addresses) {
    INFO(address);
    const std::string line = std::string("srcaddr dstaddr\n") + address + " " + address + "\n";
    const auto sink = decode_text(line + std::string(80, ' '));
    REQUIRE(sink.records.size() == 1);
    CHECK(sink.records[0].srcaddr == ip(address));
    CHECK(sink.records[0].dstaddr == ip(address));
  }
  const char* bad_addresses[] = {"1.2.3",   "1.2.3.4.5",  "256.1.1.1", "1..2.3",   "1.2.3.4a",
                                 "1.2.3.-", "1234.1.1.1", ".1.2.3.4",  "1.2.3.4.", "1.2.3.1000"};
  for (const char* address : bad_addresses) {
    INFO(address);
    const auto sink = decode_text(std::string("srcaddr dstaddr\n") + address + " 1.1.1.1\n" + std::string(80, ' '));
    REQUIRE(sink.rejects.size() == 1);
    CHECK(sink.rejects[0].reason == RejectReason::bad_address);
  }
  const char* bad_numbers[] = {"1a", "a1", "12345678x", "1234567890123456x", "+1", "0x10", "１"};
  for (const char* number : bad_numbers) {
    INFO(number);
    const auto sink = decode_text(std::string("packets srcaddr\n") + number + " 1.1.1.1\n" + std::string(80, ' '));
    REQUIRE(sink.rejects.size() == 1);
    CHECK(sink.rejects[0].reason == RejectReason::bad_number);
  }
}

TEST_CASE("AWS text: blank input and whitespace-only lines give nothing", "[aws]") {
  const auto sink = decode_text("\n\r\n   \n\t\n");
  CHECK(sink.records.empty());
  CHECK(sink.rejects.empty());
}

TEST_CASE("headerless lines with every field up to a version are read in that version's order", "[aws][guess]") {
  const std::string v5 =
      "5 64111117617 eni-069xxxxxb7a490 89.160.20.156 10.200.0.80 50041 33004 17 52 1 1640000066 1640000297 REJECT OK "
      "vpc-09676f97 subnet-02d645 i-0axxxxxx1ad77 1 IPv4 89.160.20.156 10.200.0.80 us-east-1 use1-az5 - - AMAZON "
      "CLOUDFRONT ingress 1\n";
  const std::string v2 = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 "
                         "1418530010 1418530070 ACCEPT OK\n";
  auto decoder = make_aws_text_decoder({});
  CollectingSink sink;
  decode_all(*decoder, v5 + v2 + "2 not a standard count of fields at all here\n", sink);
  REQUIRE(sink.records.size() == 2);
  CHECK(sink.records[0].vpc_id.view() == "vpc-09676f97");
  CHECK(sink.records[0].direction == Direction::ingress);
  CHECK(sink.records[0].pkt_dst_aws_service.view() == "CLOUDFRONT");
  CHECK(sink.records[1].dstport == 22);
  REQUIRE(sink.rejects.size() == 1);
  CHECK(sink.rejects[0].reason == RejectReason::wrong_field_count);

  // A header always wins: after it, a 29-field line is a mismatch, not a guess.
  auto with_header = make_aws_text_decoder({});
  CollectingSink sink2;
  decode_all(*with_header,
             "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
             "log-status\n" + v5,
             sink2);
  CHECK(sink2.records.empty());
  CHECK(sink2.count(RejectReason::wrong_field_count) == 1);
}
