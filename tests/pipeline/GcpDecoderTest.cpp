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
#include "pipeline/formats/GcpDecoder.hpp"

using namespace flowlier::pipeline;

namespace {

using GcpAzureCollector = flowlier::test::CollectingSink;
using flowlier::test::read_file;


// Feeds `text` the way the reader does: whole lines, `lines_per_chunk` at a time.
GcpAzureCollector decode(std::string_view text, std::size_t lines_per_chunk = 1000000,
                         const DecoderOptions& options = {}) {
  auto decoder = make_gcp_decoder(options);
  decoder->set_source_index(3);
  GcpAzureCollector sink;
  std::uint64_t line = 1;
  while (!text.empty()) {
    std::size_t end = 0;
    std::size_t lines = 0;
    std::uint64_t first = line;
    while (end < text.size() && lines < lines_per_chunk) {
      const std::size_t nl = text.find('\n', end);
      end = nl == std::string_view::npos ? text.size() : nl + 1;
      ++lines;
    }
    decoder->feed(text.substr(0, end), first, sink);
    text.remove_prefix(end);
    line += lines;
  }
  decoder->finish(sink);
  return sink;
}

bool has_extra(const FlowRecord& r, std::string_view name, std::string_view value) {
  const std::string pair = "\"" + std::string(name) + "\":\"" + std::string(value) + "\"";
  return r.extra.find(pair) != std::string::npos;
}

std::filesystem::path shared_sample(const char* name) {
  return std::filesystem::path(FLOWLIER_SHARED_DATA) / "samples" / "gcp" / name;
}

// A valid JSON Lines entry whose payload members can be replaced for error tests.
std::string entry(std::string_view connection, std::string_view rest = R"("bytes_sent":"10","packets_sent":"1")") {
  return std::string(R"({"jsonPayload":{"connection":)") + std::string(connection) + "," + std::string(rest) + "}}";
}
constexpr std::string_view kConnection =
    R"({"src_ip":"10.0.0.1","dest_ip":"10.0.0.2","src_port":1000,"dest_port":443,"protocol":6})";

}  // namespace

TEST_CASE("GCP: the public JSON Lines sample decodes field by field", "[gcp][samples]") {
  const auto path = shared_sample("grafana_gcp-test_flow_logs.jsonl");
  REQUIRE_SAMPLE(path);
  const auto sink = decode(read_file(path), 1);
  REQUIRE(sink.rejects.empty());
  REQUIRE(sink.records.size() == 4);

  const FlowRecord& a = sink.records[0];
  CHECK(a.format == Format::gcp_vpc);
  CHECK(a.source_index == 3);
  CHECK(a.source_line == 1);
  CHECK(a.srcaddr.str() == "198.51.100.75");
  CHECK(a.dstaddr.str() == "192.0.2.2");
  CHECK(a.srcport == 49444);
  CHECK(a.dstport == 3389);
  CHECK(a.protocol == 6);
  CHECK(a.bytes == 491);
  CHECK(a.packets == 4);
  CHECK(a.has(Field::bytes));
  CHECK(a.has(Field::packets));
  CHECK(a.rtt_ms == 61);
  CHECK(a.has(Field::rtt));
  CHECK(a.start_ns == 1522763257301723960);
  CHECK(a.end_ns == 1522763258401000000);
  CHECK(a.reporter == Reporter::dest);
  CHECK(a.direction == Direction::ingress);
  CHECK(a.action == Action::unknown);
  CHECK(a.interface_id.view() == "vm-instance-01");
  CHECK(a.account_id.view() == "yoyodyne-102010");
  CHECK(a.region.view() == "us-west1");
  CHECK(a.az_id.view() == "us-west1-a");
  CHECK(a.vpc_id.view() == "yoyo-vpc-1");
  CHECK(a.subnet_id.view() == "yoyo-vpc-1");
  CHECK(a.sampling_rate == 1.0);
  CHECK(has_extra(a, "src_country", "usa"));

  const FlowRecord& b = sink.records[1];
  CHECK(b.source_line == 2);
  CHECK(b.reporter == Reporter::src);
  CHECK(b.direction == Direction::egress);
  CHECK(b.srcaddr.str() == "192.0.2.2");
  CHECK(b.bytes == 756);
  CHECK_FALSE(b.has(Field::rtt));
  CHECK(b.interface_id.view() == "vm-instance-01");
  CHECK(has_extra(b, "dest_country", "usa"));

  // Both ends logged: the SRC report names the destination VM as the peer.
  CHECK(has_extra(sink.records[2], "peer_vm", "vm-instance-02"));
  CHECK(sink.records[2].end_ns - sink.records[2].start_ns == 62132347054);

  // ICMP: no ports, no start_time; the end comes from the LogEntry timestamp.
  const FlowRecord& d = sink.records[3];
  CHECK(d.protocol == 1);
  CHECK_FALSE(d.has(Field::srcport));
  CHECK_FALSE(d.has(Field::dstport));
  CHECK_FALSE(d.has(Field::start));
  CHECK(d.has(Field::end));
  CHECK(d.end_ns == 1522763313937764566);
}

TEST_CASE("GCP: a pretty-printed bare jsonPayload decodes at finish", "[gcp][samples]") {
  const auto path = shared_sample("ryanmat_flow_log_external.json");
  REQUIRE_SAMPLE(path);
  const auto sink = decode(read_file(path), 3);
  REQUIRE(sink.rejects.empty());
  REQUIRE(sink.records.size() == 1);
  const FlowRecord& r = sink.records[0];
  CHECK(r.source_line == 1);
  CHECK(r.srcaddr.str() == "203.0.113.45");
  CHECK(r.dstaddr.str() == "10.128.0.22");
  CHECK(r.srcport == 61423);
  CHECK(r.dstport == 443);
  CHECK(r.bytes == 8721);
  CHECK(r.packets == 18);
  CHECK(r.rtt_ms == 28);
  CHECK(r.start_ns == 1772107260000000000);
  CHECK(r.end_ns == 1772107265000000000);
  CHECK(r.reporter == Reporter::dest);
  CHECK(r.interface_id.view() == "api-backend-02");
  CHECK(r.account_id.view() == "acme-prod-123456");
  CHECK(r.az_id.view() == "us-central1-b");
  CHECK(r.vpc_id.view() == "acme-prod-vpc");
  CHECK(r.subnet_id.view() == "api-tier-subnet");
  CHECK(has_extra(r, "src_country", "usa"));
}

TEST_CASE("GCP: an exported JSON array decodes each entry by ordinal", "[gcp]") {
  const auto text = read_file(std::filesystem::path(FLOWLIER_TEST_DATA) / "gcp" / "export_array.json");
  REQUIRE_FALSE(text.empty());
  const auto sink = decode(text, 7);
  REQUIRE(sink.records.size() == 2);
  REQUIRE(sink.rejects.size() == 1);

  const FlowRecord& v6 = sink.records[0];
  CHECK(v6.source_line == 1);
  CHECK_FALSE(v6.srcaddr.is_v4());
  CHECK(v6.srcaddr.str() == "2600:1900:4000:a1b2::5");
  CHECK(v6.dstaddr.str() == "2001:db8::20");
  CHECK(v6.bytes == 1500);  // a JSON number is accepted as well as a string
  CHECK(v6.packets == 3);
  CHECK(v6.sampling_rate == 0.5);
  CHECK(v6.start_ns == 1767323045250000000);  // +02:00 offset applied
  CHECK(v6.end_ns == 1767323049750000000);
  CHECK(v6.interface_id.view() == "gke-pool-1-node-a");
  CHECK(v6.subnet_id.view() == "nodes");
  CHECK(has_extra(v6, "src_gke_cluster", "prod"));
  CHECK(has_extra(v6, "src_gke_namespace", "shop"));
  CHECK(has_extra(v6, "src_gke_pod", "web-7d9f"));
  CHECK(has_extra(v6, "dest_country", "deu"));

  CHECK(sink.rejects[0].reason == RejectReason::bad_port);
  CHECK(sink.rejects[0].line == 2);
  CHECK(sink.rejects[0].message.find("jsonPayload.connection.dest_port") != std::string::npos);
  CHECK(sink.rejects[0].raw.find("flowlier-gcp-2") != std::string::npos);

  const FlowRecord& gw = sink.records[1];
  CHECK(gw.source_line == 3);
  CHECK(gw.reporter == Reporter::src_gateway);
  CHECK(gw.direction == Direction::egress);
  CHECK(gw.interface_id.view() == "vpn-tunnel-1");
  CHECK(gw.account_id.view() == "flowlier-net");
  CHECK(gw.vpc_id.view() == "transit-vpc");
  CHECK(gw.region.view() == "europe-west4");
  CHECK(gw.sampling_rate == 0.25);
  CHECK(has_extra(gw, "peer_vm", "onprem-proxy"));
}

TEST_CASE("GCP: concatenated pretty-printed entries each decode", "[gcp]") {
  const auto text = read_file(std::filesystem::path(FLOWLIER_TEST_DATA) / "gcp" / "concatenated_objects.json");
  const auto sink = decode(text);
  REQUIRE(sink.rejects.empty());
  REQUIRE(sink.records.size() == 2);
  // The same flow seen from both ends stays two records; reporter tells them apart.
  CHECK(sink.records[0].reporter == Reporter::dest);
  CHECK(sink.records[1].reporter == Reporter::src);
  CHECK(sink.records[0].interface_id == sink.records[1].interface_id);
  CHECK(sink.records[1].source_line == 2);
  CHECK(sink.records[1].bytes == 200);
}

TEST_CASE("GCP: feeding line by line or all at once gives the same records", "[gcp]") {
  const auto text = read_file(std::filesystem::path(FLOWLIER_TEST_DATA) / "gcp" / "export_array.json");
  const auto whole = decode(text);
  const auto by_line = decode(text, 1);
  REQUIRE(whole.records.size() == by_line.records.size());
  for (std::size_t i = 0; i < whole.records.size(); ++i) {
    CHECK(whole.records[i].srcaddr == by_line.records[i].srcaddr);
    CHECK(whole.records[i].start_ns == by_line.records[i].start_ns);
    CHECK(whole.records[i].extra == by_line.records[i].extra);
  }
}

TEST_CASE("GCP: each bad JSON line is rejected with its reason and line; the rest decode", "[gcp][errors]") {
  struct Case {
    std::string line;
    RejectReason reason;
    const char* field;  // must appear in the message
  };
  const std::vector<Case> cases{
      {R"({"jsonPayload": {"connection": {"src_ip": "10.0.0.1",)", RejectReason::invalid_json, "JSON"},
      {R"({"jsonPayload":{"bytes_sent":"10"}})", RejectReason::missing_field, "jsonPayload.connection"},
      {R"({"jsonPayload":{"connection":{"dest_ip":"10.0.0.2"}}})", RejectReason::missing_field, "src_ip"},
      {R"({"jsonPayload":{"connection":{"src_ip":"10.0.0.1"}}})", RejectReason::missing_field, "dest_ip"},
      {entry(R"({"src_ip":"10.0.0.300","dest_ip":"10.0.0.2"})"), RejectReason::bad_address, "src_ip"},
      {entry(R"({"src_ip":"10.0.0.1","dest_ip":42})"), RejectReason::bad_address, "dest_ip"},
      {entry(R"({"src_ip":"10.0.0.1","dest_ip":"10.0.0.2","src_port":70000})"), RejectReason::bad_port, "src_port"},
      {entry(R"({"src_ip":"10.0.0.1","dest_ip":"10.0.0.2","dest_port":-1})"), RejectReason::bad_port, "dest_port"},
      {entry(R"({"src_ip":"10.0.0.1","dest_ip":"10.0.0.2","protocol":256})"), RejectReason::bad_protocol, "protocol"},
      {entry(kConnection, R"("bytes_sent":"12x")"), RejectReason::bad_number, "bytes_sent"},
      {entry(kConnection, R"("packets_sent":"-3")"), RejectReason::bad_number, "packets_sent"},
      {entry(kConnection, R"("rtt_msec":"99999999999")"), RejectReason::bad_number, "rtt_msec"},
      {entry(kConnection, R"("bytes_sent":1.5)"), RejectReason::bad_number, "bytes_sent"},
      {entry(kConnection, R"("start_time":"2018-13-03T13:47:37Z")"), RejectReason::bad_time, "start_time"},
      {entry(kConnection, R"("end_time":"2018-04-03T13:47:37")"), RejectReason::bad_time, "end_time"},
      {entry(kConnection, R"("start_time":"2018-04-03T13:47:37Z","end_time":"2018-04-03T13:47:36Z")"),
       RejectReason::bad_time, "end_time"},
      {entry(kConnection, R"("reporter":"BOTH")"), RejectReason::bad_value, "reporter"},
      {entry(kConnection, R"("flow_sampling":0)"), RejectReason::bad_value, "flow_sampling"},
      {entry(kConnection, R"("flow_sampling":"half")"), RejectReason::bad_number, "flow_sampling"},
      {R"({"jsonPayload":"text"})", RejectReason::invalid_json, "jsonPayload"},
  };
  const std::string good = entry(kConnection);
  std::string text = good + "\n";
  for (const auto& c : cases) text += c.line + "\n" + good + "\n";

  const auto sink = decode(text, 2);
  CHECK(sink.records.size() == cases.size() + 1);
  REQUIRE(sink.rejects.size() == cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i].line);
    CHECK(sink.rejects[i].reason == cases[i].reason);
    CHECK(sink.rejects[i].line == 2 + 2 * i);
    CHECK(sink.rejects[i].raw == cases[i].line);
    CHECK(sink.rejects[i].message.find(cases[i].field) != std::string::npos);
  }
  for (const auto& r : sink.records) CHECK(r.source_line % 2 == 1);
}

TEST_CASE("GCP: a truncated document keeps the entries before the cut", "[gcp][errors]") {
  const auto text = read_file(std::filesystem::path(FLOWLIER_TEST_DATA) / "gcp" / "concatenated_objects.json");
  const auto cut = text.substr(0, text.size() - 40);
  const auto sink = decode(cut);
  REQUIRE(sink.records.size() == 1);
  REQUIRE(sink.rejects.size() == 1);
  CHECK(sink.rejects[0].reason == RejectReason::invalid_json);
  CHECK(sink.rejects[0].line == 2);
  CHECK(sink.rejects[0].message.find("truncated") != std::string::npos);

  // A truncated array is one broken document: nothing decodes, one reject.
  const auto array = read_file(std::filesystem::path(FLOWLIER_TEST_DATA) / "gcp" / "export_array.json");
  const auto broken = decode(array.substr(0, array.size() / 2));
  CHECK(broken.records.empty());
  REQUIRE(broken.rejects.size() == 1);
  CHECK(broken.rejects[0].reason == RejectReason::invalid_json);
}

TEST_CASE("GCP: size limits reject hostile lines and documents", "[gcp][errors]") {
  DecoderOptions options;
  options.max_line_bytes = 64;
  options.max_document_bytes = 100;
  const std::string good = entry(kConnection);
  REQUIRE(good.size() > 64);
  const auto lines = decode(good + "\n", 1, options);
  CHECK(lines.records.empty());
  REQUIRE(lines.rejects.size() == 1);
  CHECK(lines.rejects[0].reason == RejectReason::line_too_long);

  const auto text = read_file(std::filesystem::path(FLOWLIER_TEST_DATA) / "gcp" / "concatenated_objects.json");
  const auto document = decode(text, 1, options);
  CHECK(document.records.empty());
  REQUIRE(document.rejects.size() == 1);
  CHECK(document.rejects[0].reason == RejectReason::line_too_long);
  CHECK(document.rejects[0].line == 1);
}

TEST_CASE("GCP: empty and blank input produce nothing", "[gcp]") {
  CHECK(decode("").records.empty());
  const auto blank = decode("\n  \n\r\n");
  CHECK(blank.records.empty());
  CHECK(blank.rejects.empty());
  CHECK(make_gcp_decoder({})->format() == Format::gcp_vpc);
}

// Firewall Rules Logging entries, written from the documented format
// (cloud.google.com/firewall/docs/firewall-rules-logging#log-format): connection,
// disposition, rule_details, instance, vpc, remote_* ; no counters, no reporter.
namespace {
std::string firewall_entry(std::string_view disposition, std::string_view direction, std::string_view connection) {
  return std::string(R"({"insertId":"1x2y3z","jsonPayload":{"connection":)") + std::string(connection) +
         R"(,"disposition":")" + std::string(disposition) +
         R"(","rule_details":{"reference":"network:prod-vpc/firewall:deny-ssh","priority":1000,"action":"DENY","direction":")" +
         std::string(direction) +
         R"(","source_range":["0.0.0.0/0"],"ip_port_info":[{"ip_protocol":"TCP","port_range":["22"]}]},)"
         R"("instance":{"project_id":"my-project","region":"europe-west1","zone":"europe-west1-b","vm_name":"bastion-1"},)"
         R"("vpc":{"project_id":"my-project","vpc_name":"prod-vpc","subnetwork_name":"mgmt"},)"
         R"("remote_location":{"continent":"Asia","country":"kor"}},)"
         R"("logName":"projects/my-project/logs/compute.googleapis.com%2Ffirewall",)"
         R"("resource":{"type":"gce_subnetwork","labels":{"project_id":"my-project","subnetwork_name":"mgmt"}},)"
         R"("timestamp":"2026-03-02T10:00:05.123456789Z"})";
}
}  // namespace

TEST_CASE("GCP: a DENIED Firewall Rules Logging entry is a reject on its instance", "[gcp][firewall]") {
  // A prober in a private range (a peered network) knocking on the bastion's SSH port.
  const auto text = firewall_entry(
      "DENIED", "INGRESS",
      R"({"src_ip":"172.16.9.9","src_port":51515,"dest_ip":"10.128.0.7","dest_port":22,"protocol":6})");
  const auto sink = decode(text + "\n");
  REQUIRE(sink.rejects.empty());
  REQUIRE(sink.records.size() == 1);
  const FlowRecord& r = sink.records[0];
  CHECK(r.format == Format::gcp_vpc);
  CHECK(r.action == Action::reject);
  CHECK(r.direction == Direction::ingress);  // the instance is the destination
  CHECK(r.interface_id.view() == "bastion-1");
  CHECK(r.account_id.view() == "my-project");
  CHECK(r.vpc_id.view() == "prod-vpc");
  CHECK(r.subnet_id.view() == "mgmt");
  CHECK(r.az_id.view() == "europe-west1-b");
  CHECK(r.rule.view() == "network:prod-vpc/firewall:deny-ssh");
  CHECK(r.dstport == 22);
  CHECK(r.has(Field::start));
  CHECK(r.start_ns == 1772445605123456789);
  CHECK_FALSE(r.has(Field::packets));
  CHECK(has_extra(r, "gcp_log", "firewall"));
  CHECK(has_extra(r, "peer_country", "kor"));
}

TEST_CASE("GCP: ALLOWED and EGRESS firewall entries; a bad disposition is rejected", "[gcp][firewall]") {
  const std::string conn =
      R"({"src_ip":"10.128.0.7","src_port":40000,"dest_ip":"203.0.113.9","dest_port":443,"protocol":6})";
  const auto sink = decode(firewall_entry("ALLOWED", "EGRESS", conn) + "\n" + firewall_entry("MAYBE", "EGRESS", conn) +
                           "\n" + firewall_entry("DENIED", "SIDEWAYS", conn) + "\n");
  REQUIRE(sink.records.size() == 1);
  CHECK(sink.records[0].action == Action::accept);
  CHECK(sink.records[0].direction == Direction::egress);  // the instance is the source
  REQUIRE(sink.rejects.size() == 2);
  CHECK(sink.rejects[0].reason == RejectReason::bad_value);
  CHECK(sink.rejects[0].line == 2);
  CHECK(sink.rejects[0].message.find("disposition") != std::string::npos);
  CHECK(sink.rejects[1].line == 3);
  CHECK(sink.rejects[1].message.find("rule_details.direction") != std::string::npos);
}
