#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/transport/TestEvents.hpp"
#include "transport/SinkEncoders.hpp"

using namespace flowlier::transport;
using flowlier::transport::test::make_event;
using nlohmann::json;

namespace {
SinkConfig hec_config() {
  SinkConfig c;
  c.type = SinkType::splunk_hec;
  c.id = "hec";
  c.url = "http://127.0.0.1:8088/";
  c.token = "tok";
  c.index = "netsec";
  c.host = "h1";
  c.source = "flowlier";
  return c;
}
}  // namespace

TEST_CASE("rfc3339 formats UTC seconds", "[encoders]") {
  CHECK(rfc3339(0) == "1970-01-01T00:00:00Z");
  CHECK(rfc3339(1700000060) == "2023-11-14T22:14:20Z");
}

TEST_CASE("HEC batches are concatenated envelopes with indexed fields", "[encoders]") {
  const SinkEvent events[] = {make_event(1), make_event(2, true, SinkSeverity::low)};
  const auto body = encode_hec(hec_config(), events);
  CHECK(body.find("}{") != std::string::npos);  // no array, no commas between objects
  CHECK(body.front() == '{');
  // Parse the two objects back.
  const auto split = body.find("}{\"fields\"");
  REQUIRE(split != std::string::npos);
  const auto first = json::parse(body.substr(0, split + 1));
  const auto second = json::parse(body.substr(split + 1));
  CHECK(first["time"] == 1700000060);
  CHECK(first["host"] == "h1");
  CHECK(first["source"] == "flowlier");
  CHECK(first["sourcetype"] == "flowlier:anomaly");
  CHECK(first["index"] == "netsec");
  CHECK(first["fields"] == json{{"severity", "high"}, {"status", "firing"}, {"entity_kind", "interface"},
                                {"entity", "eni-0abc"}, {"detector", "ewma"}, {"category", "exfiltration"}});
  CHECK(first["event"]["id"] == "evt-00001");
  CHECK(second["fields"]["severity"] == "low");
  CHECK(second["fields"]["status"] == "resolved");
}

TEST_CASE("HEC request: endpoint, auth header, gzip", "[encoders]") {
  auto c = hec_config();
  const SinkEvent events[] = {make_event(1)};
  auto plain = build_request(c, events);
  CHECK(plain.url == "http://127.0.0.1:8088/services/collector/event");
  CHECK(std::find(plain.headers.begin(), plain.headers.end(), "Authorization: Splunk tok") != plain.headers.end());
  c.gzip = true;
  auto zipped = build_request(c, events, "chan-1");
  CHECK(std::find(zipped.headers.begin(), zipped.headers.end(), "Content-Encoding: gzip") != zipped.headers.end());
  CHECK(std::find(zipped.headers.begin(), zipped.headers.end(), "X-Splunk-Request-Channel: chan-1") !=
        zipped.headers.end());
  CHECK(gunzip_text(zipped.body) == plain.body);
  c.url = "https://splunk:8088/services/collector/event";
  CHECK(build_request(c, events).url == c.url);
  const std::uint64_t ids[] = {3, 4};
  auto ack = build_hec_ack_request(c, "chan-1", ids);
  CHECK(ack.url == "https://splunk:8088/services/collector/ack");
  CHECK(json::parse(ack.body) == json{{"acks", {3, 4}}});
}

TEST_CASE("Sumo: one event per line, X-Sumo headers, gzip by default", "[encoders]") {
  SinkConfig c;
  c.type = SinkType::sumo_logic;
  c.url = "https://sumo/receiver/v1/http/CODE";
  c.category = "net/flowlier";
  c.sumo_name = "flowlier";
  c.host = "h1";
  c.fields = {{"env", "prod"}, {"team", "net"}};
  c.gzip = true;
  const SinkEvent events[] = {make_event(1), make_event(2)};
  auto r = build_request(c, events);
  CHECK(r.url == c.url);
  for (const char* h : {"X-Sumo-Category: net/flowlier", "X-Sumo-Name: flowlier", "X-Sumo-Host: h1",
                        "X-Sumo-Fields: env=prod,team=net", "Content-Encoding: gzip"})
    CHECK(std::find(r.headers.begin(), r.headers.end(), h) != r.headers.end());
  CHECK(gunzip_text(r.body) == events[0].json + "\n" + events[1].json + "\n");
}

TEST_CASE("Alertmanager v4 payload", "[encoders]") {
  SinkConfig c;
  c.id = "am";
  const SinkEvent firing[] = {make_event(1), make_event(2, true)};
  auto p = json::parse(encode_alertmanager(c, firing));
  CHECK(p["version"] == "4");
  CHECK(p["status"] == "firing");
  CHECK(p["receiver"] == "am");
  REQUIRE(p["alerts"].size() == 2);
  CHECK(p["alerts"][0]["fingerprint"] == "ep-0");
  CHECK(p["alerts"][0]["labels"]["alertname"] == "FlowlierAnomaly");
  CHECK(p["alerts"][0]["labels"]["severity"] == "high");
  CHECK(p["alerts"][0]["startsAt"] == "2023-11-14T22:14:20Z");
  CHECK(p["alerts"][0]["endsAt"] == "0001-01-01T00:00:00Z");
  CHECK(p["alerts"][1]["status"] == "resolved");
  CHECK(p["alerts"][1]["endsAt"] == "2023-11-14T22:15:20Z");
  const SinkEvent resolved[] = {make_event(3, true)};
  CHECK(json::parse(encode_alertmanager(c, resolved))["status"] == "resolved");
}

TEST_CASE("PagerDuty Events v2: trigger/resolve, dedup key, severity map, summary limit", "[encoders]") {
  SinkConfig c;
  c.routing_key = "RK";
  auto trigger = json::parse(encode_pagerduty(c, make_event(4)));
  CHECK(trigger["routing_key"] == "RK");
  CHECK(trigger["event_action"] == "trigger");
  CHECK(trigger["dedup_key"] == "ep-2");
  CHECK(trigger["payload"]["severity"] == "error");
  CHECK(trigger["payload"]["source"] == "eni-0abc");
  CHECK(trigger["payload"]["custom_details"]["id"] == "evt-00004");
  auto resolve = json::parse(encode_pagerduty(c, make_event(5, true)));
  CHECK(resolve["event_action"] == "resolve");
  CHECK(resolve["dedup_key"] == "ep-2");
  CHECK(std::string(pagerduty_severity(SinkSeverity::critical)) == "critical");
  CHECK(std::string(pagerduty_severity(SinkSeverity::medium)) == "warning");
  CHECK(std::string(pagerduty_severity(SinkSeverity::low)) == "info");
  auto long_event = make_event(6);
  long_event.meta.summary = std::string(3000, 'x') + "\xc3\xa9";
  auto p = json::parse(encode_pagerduty(c, long_event));
  CHECK(p["payload"]["summary"].get<std::string>().size() <= 1024);
}

TEST_CASE("Slack: readable text, its own resolved message", "[encoders]") {
  const SinkEvent events[] = {make_event(1), make_event(2, true)};
  auto p = json::parse(encode_slack(events));
  const auto text = p["text"].get<std::string>();
  CHECK(text == ":rotating_light: [high] interface eni-0abc: bytes out 40x the usual (ewma/bytes_out, episode ep-0)\n"
                ":white_check_mark: Resolved: interface eni-0abc bytes out 40x the usual (ewma/bytes_out, episode ep-1)");
}

TEST_CASE("generic JSON is an array of the events", "[encoders]") {
  const SinkEvent events[] = {make_event(1), make_event(2)};
  auto p = json::parse(encode_json_array(events));
  REQUIRE(p.size() == 2);
  CHECK(p[1]["id"] == "evt-00002");
  CHECK(encode_json_array({}) == "[]");
}
