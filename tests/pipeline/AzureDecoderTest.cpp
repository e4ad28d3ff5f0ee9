#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "pipeline/DecodeSink.hpp"
#include "pipeline/InputFormat.hpp"
#include "tests/support/CollectingSink.hpp"
#include "tests/support/SharedData.hpp"
#include "pipeline/formats/AzureDecoder.hpp"

using namespace flowlier::pipeline;
using flowlier::pipeline::formats::azure_resource_segment;
using flowlier::pipeline::formats::parse_nsg_flow_tuple;
using flowlier::pipeline::formats::parse_vnet_flow_tuple;

namespace {

using GcpAzureCollector = flowlier::test::CollectingSink;
using flowlier::test::read_file;


std::string fixture(const char* name) {
  return read_file(std::filesystem::path(FLOWLIER_TEST_DATA) / "azure" / name);
}

// Feeds `text` line by line, as the reader would, then finishes.
GcpAzureCollector decode(InputFormat format, std::string_view text, const DecoderOptions& options = {}) {
  auto decoder = format == InputFormat::azure_vnet ? make_azure_vnet_decoder(options) : make_azure_nsg_decoder(options);
  decoder->set_source_index(5);
  GcpAzureCollector sink;
  std::uint64_t line = 1;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    decoder->feed(text.substr(0, end), line++, sink);
    text.remove_prefix(end);
  }
  decoder->finish(sink);
  return sink;
}

bool has_extra(const FlowRecord& r, std::string_view name, std::string_view value) {
  const std::string pair = "\"" + std::string(name) + "\":\"" + std::string(value) + "\"";
  return r.extra.find(pair) != std::string::npos;
}

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kMilli = 1'000'000;

// An NSG v2 document with one rule group holding `tuples` (each already quoted).
std::string nsg_document(const std::vector<std::string>& tuples) {
  std::string list;
  for (const auto& t : tuples) list += (list.empty() ? "\"" : ",\"") + t + "\"";
  return R"({"records":[{"category":"NetworkSecurityGroupFlowEvent","resourceId":"/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/N1","properties":{"Version":2,"flows":[{"rule":"R","flows":[{"mac":"AABBCCDDEEFF","flowTuples":[)" +
         list + "]}]}]}}]}\n";
}

}  // namespace

TEST_CASE("Azure NSG: the public v2 docs sample decodes tuple by tuple", "[azure][samples]") {
  const auto path = std::filesystem::path(FLOWLIER_SHARED_DATA) / "samples" / "azure" / "nsg_flow_log_v2_docs_sample.json";
  REQUIRE_SAMPLE(path);
  const auto sink = decode(InputFormat::azure_nsg, read_file(path));
  REQUIRE(sink.rejects.empty());
  REQUIRE(sink.records.size() == 11);

  const FlowRecord& first = sink.records[0];
  CHECK(first.format == Format::azure_nsg);
  CHECK(first.source_index == 5);
  CHECK(first.source_line == 1);
  CHECK(first.start_ns == 1542110402 * kSecond);
  CHECK(first.end_ns == first.start_ns);
  CHECK(first.srcaddr.str() == "192.0.2.190");
  CHECK(first.dstaddr.str() == "10.5.16.4");
  CHECK(first.srcport == 28746);
  CHECK(first.dstport == 443);
  CHECK(first.protocol == 17);
  CHECK(first.direction == Direction::ingress);
  CHECK(first.action == Action::reject);
  CHECK(first.flow_state == FlowState::begin);
  CHECK_FALSE(first.has(Field::packets));
  CHECK_FALSE(first.has(Field::bytes_reverse));
  CHECK(first.rule.view() == "DefaultRule_DenyAllInBound");
  CHECK(first.interface_id.view() == "000D3AF87856");
  CHECK(first.account_id.view() == "aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e");
  CHECK(first.version == 2);
  CHECK(first.has(Field::version));
  CHECK(has_extra(first, "nsg", "FABRIAKMVM1-NSG"));
  CHECK(first.vpc_id.empty());

  const FlowRecord& end = sink.records[4];  // "1542110379,10.5.16.4,203.0.113.117,59932,443,T,O,A,E,1,66,1,66"
  CHECK(end.source_line == 5);
  CHECK(end.rule.view() == "DefaultRule_AllowInternetOutBound");
  CHECK(end.direction == Direction::egress);
  CHECK(end.action == Action::accept);
  CHECK(end.flow_state == FlowState::end);
  CHECK(end.protocol == 6);
  CHECK(end.packets == 1);
  CHECK(end.bytes == 66);
  CHECK(end.packets_reverse == 1);
  CHECK(end.bytes_reverse == 66);
  CHECK(end.has(Field::bytes_reverse));

  const FlowRecord& cont = sink.records[5];
  CHECK(cont.flow_state == FlowState::continuing);
  CHECK(cont.bytes == 16978);
  CHECK(cont.bytes_reverse == 14008);

  CHECK(sink.records[10].source_line == 11);
  CHECK(sink.records[10].srcaddr.str() == "176.119.4.30");
  CHECK(sink.records[10].dstport == 52801);
  int denied = 0;
  for (const auto& r : sink.records) denied += r.action == Action::reject ? 1 : 0;
  CHECK(denied == 7);
}

TEST_CASE("Azure NSG: the docs' B/C/E bandwidth tuples carry deltas", "[azure][samples]") {
  const auto path =
      std::filesystem::path(FLOWLIER_SHARED_DATA) / "samples" / "azure" / "nsg_flow_log_v2_bandwidth_example.tuples";
  REQUIRE_SAMPLE(path);
  std::istringstream lines(read_file(path));
  std::vector<FlowRecord> records;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    FlowRecord r;
    auto failure = parse_nsg_flow_tuple(line, r);
    INFO(line);
    REQUIRE_FALSE(failure);
    records.push_back(r);
  }
  REQUIRE(records.size() == 3);
  CHECK(records[0].flow_state == FlowState::begin);
  CHECK_FALSE(records[0].has(Field::packets));
  CHECK_FALSE(records[0].has(Field::bytes));
  CHECK(records[1].flow_state == FlowState::continuing);
  CHECK(records[1].packets == 1021);
  CHECK(records[1].bytes == 588096);
  CHECK(records[1].packets_reverse == 8005);
  CHECK(records[1].bytes_reverse == 4610880);
  CHECK(records[2].flow_state == FlowState::end);
  CHECK(records[1].bytes + records[2].bytes == 618048);
  CHECK(records[1].bytes_reverse + records[2].bytes_reverse == 4637952);
  for (const auto& r : records) {
    CHECK(r.start_ns == 1708978215 * kSecond);
    CHECK(r.srcaddr.str() == "203.0.113.105");
    CHECK(r.dstport == 443);
  }
}

TEST_CASE("Azure VNet: a flow log document maps MAC, rule, network, state and encryption", "[azure]") {
  const auto sink = decode(InputFormat::azure_vnet, fixture("vnet_flow_log.json"));
  REQUIRE(sink.rejects.empty());
  REQUIRE(sink.records.size() == 5);

  const FlowRecord& begin = sink.records[0];
  CHECK(begin.format == Format::azure_vnet);
  CHECK(begin.source_line == 1);
  CHECK(begin.start_ns == 1663146003599 * kMilli);  // 13 digits: milliseconds
  CHECK(begin.interface_id.view() == "00224871C205");
  CHECK(begin.account_id.view() == "11111111-2222-3333-4444-555555555555");
  CHECK(begin.vpc_id.view() == "vnet-app");
  CHECK(begin.subnet_id.empty());
  CHECK(begin.rule.view() == "DefaultRule_AllowInternetOutBound");
  CHECK(begin.version == 4);
  CHECK(begin.flow_state == FlowState::begin);
  CHECK(begin.action == Action::accept);
  CHECK(begin.direction == Direction::egress);
  CHECK_FALSE(begin.has(Field::packets));  // empty B counters stay absent
  CHECK_FALSE(begin.has(Field::bytes_reverse));
  CHECK(has_extra(begin, "encryption", "NX"));
  CHECK(has_extra(begin, "acl_id", "acl-0001"));

  const FlowRecord& end = sink.records[1];
  CHECK(end.packets == 3);
  CHECK(end.bytes == 767);
  CHECK(end.packets_reverse == 2);
  CHECK(end.bytes_reverse == 1580);

  const FlowRecord& denied = sink.records[2];
  CHECK(denied.flow_state == FlowState::denied);
  CHECK(denied.action == Action::reject);
  CHECK(denied.direction == Direction::ingress);
  CHECK(denied.rule.view() == "BlockHighRiskTCPPortsFromInternet");
  CHECK(denied.packets_reverse == 0);
  CHECK(denied.has(Field::packets_reverse));  // "0" is a value, not an absence

  const FlowRecord& v6 = sink.records[3];
  CHECK_FALSE(v6.srcaddr.is_v4());
  CHECK(v6.srcaddr.str() == "2001:db8:1::4");
  CHECK(v6.protocol == 17);
  CHECK(v6.interface_id.view() == "00224871C206");
  CHECK(v6.subnet_id.view() == "snet-web");
  CHECK(v6.vpc_id.view() == "vnet-app");
  CHECK(has_extra(v6, "encryption", "X"));

  const FlowRecord& icmp = sink.records[4];
  CHECK(icmp.start_ns == 1663146011 * kSecond);  // 10 digits: seconds
  CHECK(icmp.protocol == 1);
  CHECK_FALSE(icmp.has(Field::srcport));
  CHECK(has_extra(icmp, "encryption", "NX_HW_NOT_SUPPORTED"));
  CHECK(icmp.source_line == 5);
}

TEST_CASE("Azure NSG: version 1 tuples stop after the decision", "[azure]") {
  const auto sink = decode(InputFormat::azure_nsg, fixture("nsg_v1_flow_log.json"));
  REQUIRE(sink.rejects.empty());
  REQUIRE(sink.records.size() == 3);
  CHECK(sink.records[0].version == 1);
  CHECK(sink.records[0].flow_state == FlowState::unknown);
  CHECK(sink.records[0].action == Action::reject);
  CHECK(sink.records[0].present == (static_cast<std::uint32_t>(Field::start) | static_cast<std::uint32_t>(Field::end) |
                                    static_cast<std::uint32_t>(Field::srcaddr) |
                                    static_cast<std::uint32_t>(Field::dstaddr) |
                                    static_cast<std::uint32_t>(Field::srcport) |
                                    static_cast<std::uint32_t>(Field::dstport) |
                                    static_cast<std::uint32_t>(Field::protocol) |
                                    static_cast<std::uint32_t>(Field::version)));
  CHECK(sink.records[1].protocol == 17);
  CHECK(sink.records[2].action == Action::accept);
  CHECK(sink.records[2].rule.view() == "UserRule_default-allow-rdp");
  CHECK(sink.records[2].account_id.view() == "22222222-3333-4444-5555-666666666666");
  CHECK(has_extra(sink.records[2], "nsg", "LEGACY-NSG"));
}

TEST_CASE("Azure NSG: one document per line, and a bare record, all decode", "[azure]") {
  const auto sink = decode(InputFormat::azure_nsg, fixture("nsg_records_per_line.json"));
  REQUIRE(sink.rejects.empty());
  REQUIRE(sink.records.size() == 4);
  CHECK(sink.records[0].start_ns == 1709287200123 * kMilli);
  CHECK_FALSE(sink.records[0].has(Field::bytes));
  CHECK(sink.records[1].bytes_reverse == 64000);
  CHECK(sink.records[2].srcaddr.str() == "2001:db8:ffff::10");
  CHECK(sink.records[2].source_line == 3);
  CHECK(sink.records[3].action == Action::reject);
  CHECK(sink.records[3].source_line == 4);
  // Lower-case resource ids (newer exports) yield the same subscription.
  CHECK(sink.records[3].account_id.view() == "33333333-4444-5555-6666-777777777777");
}

TEST_CASE("Azure: each decoder reads either record kind and tags what it really is", "[azure]") {
  const auto sink = decode(InputFormat::azure_nsg, fixture("vnet_flow_log.json"));
  REQUIRE(sink.records.size() == 5);
  CHECK(sink.records[0].format == Format::azure_vnet);
  CHECK(make_azure_nsg_decoder({})->format() == Format::azure_nsg);
  CHECK(make_azure_vnet_decoder({})->format() == Format::azure_vnet);
}

TEST_CASE("Azure: a bad tuple skips only itself; the others still decode", "[azure][errors]") {
  struct Case {
    std::string tuple;
    RejectReason reason;
    const char* field;
  };
  const std::string good = "1542110377,10.5.16.4,203.0.113.118,59831,443,T,O,A,B,,,,";
  const std::vector<Case> cases{
      {"1542110377,10.5.16.4,203.0.113.118,59831,443,T,O,A,B,,,", RejectReason::wrong_field_count, "12 fields"},
      {"1542110377,10.5.16.4,203.0.113.118,59831,443,T,O,A,B,1,2,3,4,5", RejectReason::wrong_field_count, "13"},
      {"1542110377,10.5.16.4", RejectReason::wrong_field_count, "2 fields"},
      {"1542110377,10.5.16.400,203.0.113.118,59831,443,T,O,A,B,,,,", RejectReason::bad_address, "srcIP"},
      {"1542110377,10.5.16.4,,59831,443,T,O,A,B,,,,", RejectReason::bad_address, "dstIP"},
      {"1542110377,10.5.16.4,203.0.113.118,65536,443,T,O,A,B,,,,", RejectReason::bad_port, "srcPort"},
      {"1542110377,10.5.16.4,203.0.113.118,59831,4x3,T,O,A,B,,,,", RejectReason::bad_port, "dstPort"},
      {"1542110377,10.5.16.4,203.0.113.118,59831,443,X,O,A,B,,,,", RejectReason::bad_protocol, "protocol"},
      {"1542110377,10.5.16.4,203.0.113.118,59831,443,T,O,A,C,1,2x,3,4", RejectReason::bad_number, "bytes src->dst"},
      {"1542110377,10.5.16.4,203.0.113.118,59831,443,T,O,A,C,1,2,-3,4", RejectReason::bad_number, "packets dst->src"},
      {"1542110377,10.5.16.4,203.0.113.118,59831,443,T,X,A,B,,,,", RejectReason::bad_value, "direction"},
      {"1542110377,10.5.16.4,203.0.113.118,59831,443,T,O,Y,B,,,,", RejectReason::bad_value, "decision"},
      {"1542110377,10.5.16.4,203.0.113.118,59831,443,T,O,A,D,,,,", RejectReason::bad_value, "state"},
      {"15421103x7,10.5.16.4,203.0.113.118,59831,443,T,O,A,B,,,,", RejectReason::bad_time, "timestamp"},
      {",10.5.16.4,203.0.113.118,59831,443,T,O,A,B,,,,", RejectReason::bad_time, "timestamp"},
      {"99999999999999999999,10.5.16.4,203.0.113.118,59831,443,T,O,A,B,,,,", RejectReason::bad_time, "timestamp"},
  };
  std::vector<std::string> tuples{good};
  for (const auto& c : cases) {
    tuples.push_back(c.tuple);
    tuples.push_back(good);
  }
  const auto sink = decode(InputFormat::azure_nsg, nsg_document(tuples));
  CHECK(sink.records.size() == cases.size() + 1);
  REQUIRE(sink.rejects.size() == cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i].tuple);
    CHECK(sink.rejects[i].reason == cases[i].reason);
    CHECK(sink.rejects[i].line == 2 + 2 * i);  // tuple ordinal, counting bad ones
    CHECK(sink.rejects[i].raw == cases[i].tuple);
    CHECK(sink.rejects[i].message.find(cases[i].field) != std::string::npos);
  }
  for (const auto& r : sink.records) {
    CHECK(r.source_line % 2 == 1);
    CHECK(r.account_id.view() == "S1");
  }
}

TEST_CASE("Azure VNet: tuple-level rejects", "[azure][errors]") {
  FlowRecord r;
  auto wrong_count = parse_vnet_flow_tuple("1663146003599,10.0.0.6,192.0.2.180,23956,443,T,O,B", r);
  REQUIRE(wrong_count);
  CHECK(wrong_count->reason == RejectReason::wrong_field_count);
  auto bad_state = parse_vnet_flow_tuple("1663146003599,10.0.0.6,192.0.2.180,23956,443,6,O,A,NX,,,,", r);
  REQUIRE(bad_state);
  CHECK(bad_state->reason == RejectReason::bad_value);
  auto bad_protocol = parse_vnet_flow_tuple("1663146003599,10.0.0.6,192.0.2.180,23956,443,300,O,B,NX,,,,", r);
  REQUIRE(bad_protocol);
  CHECK(bad_protocol->reason == RejectReason::bad_protocol);
  FlowRecord ok;
  CHECK_FALSE(parse_vnet_flow_tuple("1663146003599,fe80::1,ff02::1,0,0,58,O,B,X,,,,", ok));
  CHECK(ok.protocol == 58);
  CHECK(ok.srcport == 0);
  CHECK(ok.has(Field::srcport));
}

TEST_CASE("Azure: records of the wrong shape are rejected; neighbours decode", "[azure][errors]") {
  const std::string text =
      R"({"records":[{"category":"Other","time":"x"},)"
      R"({"properties":{"Version":2}},)"
      R"({"properties":{"Version":2,"flows":[{"rule":"R","flows":[{"mac":"M","flowTuples":["1542110377,10.5.16.4,203.0.113.118,59831,443,T,O,A,B,,,,",7]}]}]}},)"
      R"("text"]})";
  const auto sink = decode(InputFormat::azure_nsg, text);
  REQUIRE(sink.records.size() == 1);
  CHECK(sink.records[0].interface_id.view() == "M");
  CHECK(sink.records[0].source_line == 1);
  REQUIRE(sink.rejects.size() == 4);
  CHECK(sink.rejects[0].reason == RejectReason::missing_field);
  CHECK(sink.rejects[0].line == 1);
  CHECK(sink.rejects[1].reason == RejectReason::missing_field);
  CHECK(sink.rejects[1].message.find("properties.flows") != std::string::npos);
  CHECK(sink.rejects[2].reason == RejectReason::invalid_json);  // the tuple 7
  CHECK(sink.rejects[2].line == 2);
  CHECK(sink.rejects[3].reason == RejectReason::invalid_json);  // the record "text"
  CHECK(sink.rejects[3].line == 3);
}

TEST_CASE("Azure: invalid and truncated JSON are rejected, never thrown", "[azure][errors]") {
  const auto garbage = decode(InputFormat::azure_nsg, "this is not json\n");
  CHECK(garbage.records.empty());
  REQUIRE(garbage.rejects.size() == 1);
  CHECK(garbage.rejects[0].reason == RejectReason::invalid_json);

  const std::string doc = fixture("vnet_flow_log.json");
  const auto truncated = decode(InputFormat::azure_vnet, doc.substr(0, doc.size() - 30));
  CHECK(truncated.records.empty());
  REQUIRE(truncated.rejects.size() == 1);
  CHECK(truncated.rejects[0].reason == RejectReason::invalid_json);
  CHECK(truncated.rejects[0].message.find("truncated") != std::string::npos);

  // Several documents, the last one cut: the complete ones still decode.
  const std::string lines = fixture("nsg_records_per_line.json");
  const auto partial = decode(InputFormat::azure_nsg, lines.substr(0, lines.size() - 20));
  CHECK(partial.records.size() == 3);
  REQUIRE(partial.rejects.size() == 1);
  CHECK(partial.rejects[0].reason == RejectReason::invalid_json);
  CHECK(partial.rejects[0].line == 4);

  CHECK(decode(InputFormat::azure_nsg, "").rejects.empty());
}

TEST_CASE("Azure: a document over max_document_bytes is rejected whole", "[azure][errors]") {
  DecoderOptions options;
  options.max_document_bytes = 200;
  const auto sink = decode(InputFormat::azure_vnet, fixture("vnet_flow_log.json"), options);
  CHECK(sink.records.empty());
  REQUIRE(sink.rejects.size() == 1);
  CHECK(sink.rejects[0].reason == RejectReason::line_too_long);
  CHECK(sink.rejects[0].line == 1);
}

TEST_CASE("Azure resource ids yield their segments case-insensitively", "[azure]") {
  const std::string_view id =
      "/SUBSCRIPTIONS/aaaa/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/virtualNetworks/vnet1/subnets/web";
  CHECK(azure_resource_segment(id, "subscriptions") == "aaaa");
  CHECK(azure_resource_segment(id, "VIRTUALNETWORKS") == "vnet1");
  CHECK(azure_resource_segment(id, "subnets") == "web");
  CHECK(azure_resource_segment(id, "networkInterfaces").empty());
  CHECK(azure_resource_segment("/subscriptions", "subscriptions").empty());
  CHECK(azure_resource_segment("", "subscriptions").empty());
}
