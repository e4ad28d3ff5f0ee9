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
  CHECK(p["alerts"][0]["labels"] == json({{"alertname", "FlowlierAnomaly"}, {"severity", "high"},
                                           {"category", "exfiltration"}, {"entity_kind", "interface"},
                                           {"entity", "eni-0abc"}, {"episode", "ep-0"}}));
  CHECK(p["alerts"][0]["annotations"]["severity"] == "high");
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

TEST_CASE("Alertmanager API v2: labels, annotations, endsAt by horizon and resolution", "[encoders]") {
  SinkConfig c;
  c.type = SinkType::alertmanager;
  c.id = "am";
  c.urls = {"http://am1:9093", "http://am2:9093/api/v2/alerts"};
  c.url = c.urls.front();
  c.resend_horizon_seconds = 600;
  c.generator_url = "https://flowlier.example/events";
  auto firing = make_event(1);
  firing.json = R"({"value":1250000,"expected":31000.5,"contributors":[{"key":"10.0.0.9:443","value":900000,"share":0.72},{"key":"10.0.0.7:443","value":1,"share":0.1}]})";
  const SinkEvent events[] = {firing, make_event(2, true)};
  const std::int64_t now = 1700000100;  // 40 s after event 1's time, before event 2's time
  auto p = json::parse(encode_alertmanager_v2(c, events, now));
  REQUIRE(p.is_array());
  REQUIRE(p.size() == 2);
  const auto& a = p[0];
  CHECK(a["labels"] == json({{"alertname", "FlowlierAnomaly"}, {"severity", "high"}, {"category", "exfiltration"},
                             {"entity_kind", "interface"}, {"entity", "eni-0abc"}, {"episode", "ep-0"}}));
  CHECK(a["annotations"]["severity"] == "high");
  CHECK(a["annotations"]["category"] == "exfiltration");
  CHECK(a["annotations"]["detector"] == "ewma");
  CHECK(a["startsAt"] == "2023-11-14T22:14:20Z");  // 1700000060
  CHECK(a["endsAt"] == rfc3339(now + 600));
  CHECK(a["generatorURL"] == "https://flowlier.example/events");
  CHECK(a["annotations"]["summary"] == event_summary(firing.meta, 1024));
  CHECK(a["annotations"]["description"] ==
        "bytes out 40x the usual\nbytes_out: value 1.25e+06 vs expected 31000.5; "
        "top contributors: 10.0.0.9:443 900000 (72%), 10.0.0.7:443 1 (10%)");
  CHECK(a["annotations"]["episode"] == "ep-0");
  CHECK(a.find("status") == a.end());  // API v2 alerts carry no status: endsAt says it
  // Resolution: ends at min(its time, now) so Alertmanager sees it resolved at once.
  CHECK(p[1]["endsAt"] == rfc3339(now));
  CHECK(p[1]["startsAt"] == rfc3339(now));

  // Endpoints: /api/v2/alerts appended once; the request goes to the first.
  CHECK(alertmanager_endpoints(c) ==
        std::vector<std::string>{"http://am1:9093/api/v2/alerts", "http://am2:9093/api/v2/alerts"});
  auto r = build_request(c, events, "", now);
  CHECK(r.url == "http://am1:9093/api/v2/alerts");
  CHECK(json::parse(r.body) == p);

  // An event without value/expected/contributors keeps its summary as the description.
  CHECK(event_description(make_event(4)) == "bytes out 40x the usual");
  auto late = make_event(6);
  CHECK(json::parse(encode_alertmanager_v2(c, std::span<const SinkEvent>(&late, 1), 0))[0]["endsAt"] ==
        rfc3339(late.meta.time + 600));  // a clock behind the event: the horizon counts from the event
}

TEST_CASE("Alertmanager: one label set for an episode's whole life; contributors named", "[encoders]") {
  SinkConfig c;
  c.type = SinkType::alertmanager;
  c.id = "am";
  c.url = "http://am:9093";
  // The probe: an episode fires as exfiltration/high, escalates to critical, and
  // resolves as brute-force. Alertmanager must see one alert, not three.
  auto first = make_event(1);
  auto escalation = make_event(2);
  escalation.meta.severity = SinkSeverity::critical;
  auto resolution = make_event(3, true);
  resolution.meta.category = "brute-force";
  resolution.meta.detector = "count";
  for (auto* e : {&escalation, &resolution}) {
    e->meta.episode = first.meta.episode;
    // What DeliveryService's record of first firings gives every event of the episode.
    e->meta.opened_known = true;
    e->meta.opened_severity = first.meta.severity;
    e->meta.opened_category = first.meta.category;
  }
  const SinkEvent events[] = {first, escalation, resolution};
  const auto v2 = json::parse(encode_alertmanager_v2(c, events, 1700000100));
  const auto v4 = json::parse(encode_alertmanager(c, events));
  for (std::size_t i = 1; i < 3; ++i) {
    CHECK(v2[i]["labels"] == v2[0]["labels"]);
    CHECK(v4["alerts"][i]["labels"] == v4["alerts"][0]["labels"]);
  }
  CHECK(v2[0]["labels"]["severity"] == "high");
  CHECK(v2[0]["labels"]["category"] == "exfiltration");
  CHECK(v2[1]["annotations"]["severity"] == "critical");
  CHECK(v2[2]["annotations"]["category"] == "brute-force");

  auto named = make_event(4);
  named.json = R"({"contributors":[{"key":"peer","value":"203.0.113.9","share":0.99},)"
               R"({"key":"peer","value":"198.51.100.7","share":0.01},{"key":"port","value":"22","share":0.5}]})";
  CHECK(event_description(named) ==
        "bytes out 40x the usual\ntop contributors: peer 203.0.113.9 (99%), peer 198.51.100.7 (1%), port 22 (50%)");
}
