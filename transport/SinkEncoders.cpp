#include "transport/SinkEncoders.hpp"

#include "pipeline/Gzip.hpp"


#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace flowlier::transport {

namespace {
using nlohmann::json;

// Cuts at max bytes without splitting a UTF-8 sequence.
std::string utf8_prefix(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s;
}

// Appends `"key":<raw json>` to a dumped object (which ends with '}').
std::string splice_raw(std::string object, std::string_view key, std::string_view raw) {
  object.pop_back();
  if (object.size() > 1) object += ',';
  object += '"';
  object += key;
  object += "\":";
  object += raw;
  object += '}';
  return object;
}

std::string join_url(const std::string& base, std::string_view path) {
  // A full endpoint URL is used as is; a base URL gets the standard path.
  if (base.find("/services/collector") != std::string::npos) return base;
  std::string out = base;
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out + std::string(path);
}
}  // namespace

std::string rfc3339(std::int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

const char* pagerduty_severity(SinkSeverity s) {
  switch (s) {
    case SinkSeverity::critical: return "critical";
    case SinkSeverity::high: return "error";
    case SinkSeverity::medium: return "warning";
    default: return "info";
  }
}

std::string event_summary(const EventMeta& m, std::size_t max_chars) {
  std::string text;
  if (m.resolved)
    text = fmt::format("Resolved: {} {} {} ({}/{}, episode {})", m.entity_kind, m.entity_id,
                       m.summary.empty() ? std::string("back to normal") : m.summary, m.detector, m.feature,
                       m.episode);
  else
    text = fmt::format("[{}] {} {}: {} ({}/{}, episode {})", to_string(m.severity), m.entity_kind, m.entity_id,
                       m.summary.empty() ? m.category : m.summary, m.detector, m.feature, m.episode);
  return utf8_prefix(std::move(text), max_chars);
}

std::string encode_hec(const SinkConfig& c, std::span<const SinkEvent> events) {
  std::string out;
  for (const auto& e : events) {
    json envelope = json::object();
    envelope["time"] = e.meta.time;
    if (!c.host.empty()) envelope["host"] = c.host;
    if (!c.source.empty()) envelope["source"] = c.source;
    envelope["sourcetype"] = c.sourcetype;
    if (!c.index.empty()) envelope["index"] = c.index;
    envelope["fields"] = {{"severity", to_string(e.meta.severity)},
                          {"status", e.meta.resolved ? "resolved" : "firing"},
                          {"entity_kind", e.meta.entity_kind},
                          {"entity", e.meta.entity_id},
                          {"detector", e.meta.detector},
                          {"category", e.meta.category}};
    out += splice_raw(envelope.dump(-1, ' ', false, json::error_handler_t::replace), "event", e.json);
  }
  return out;
}

std::string encode_sumo(std::span<const SinkEvent> events) {
  std::string out;
  for (const auto& e : events) {
    out += e.json;
    out += '\n';
  }
  return out;
}

// Alertmanager identifies an alert by its label set, so the labels are fixed at the
// episode's first firing: a severity that rises or a category that changes
// (exfiltration, then brute force) would make a second alert (a second page), and the
// resolution of the first would never come. `severity` and `category` are the first
// firing's (DeliveryService keeps them per episode, on disk); their current values,
// and the detector, are annotations.
static json alert_labels(const EventMeta& m) {
  return {{"alertname", "FlowlierAnomaly"},
          {"severity", to_string(m.opened_known ? m.opened_severity : m.severity)},
          {"category", m.opened_known ? m.opened_category : m.category},
          {"entity_kind", m.entity_kind},
          {"entity", m.entity_id},
          {"episode", m.episode}};
}

static json alert_annotations(const SinkEvent& e) {
  const auto& m = e.meta;
  return {{"summary", event_summary(m, 1024)}, {"description", event_description(e)},
          {"severity", to_string(m.severity)},  {"category", m.category},
          {"detector", m.detector},             {"feature", m.feature},
          {"episode", m.episode},               {"event_id", m.id}};
}

std::string encode_alertmanager(const SinkConfig& c, std::span<const SinkEvent> events) {
  json alerts = json::array();
  bool all_resolved = true;
  for (const auto& e : events) {
    const auto& m = e.meta;
    all_resolved = all_resolved && m.resolved;
    alerts.push_back({{"status", m.resolved ? "resolved" : "firing"},
                      {"labels", alert_labels(m)},
                      {"annotations", alert_annotations(e)},
                      {"startsAt", rfc3339(m.time)},
                      {"endsAt", m.resolved ? rfc3339(m.time) : "0001-01-01T00:00:00Z"},
                      {"generatorURL", ""},
                      {"fingerprint", m.episode}});
  }
  json body = {{"version", "4"},
               {"groupKey", "{}:{alertname=\"FlowlierAnomaly\"}"},
               {"truncatedAlerts", 0},
               {"status", all_resolved ? "resolved" : "firing"},
               {"receiver", c.id},
               {"groupLabels", {{"alertname", "FlowlierAnomaly"}}},
               {"commonLabels", {{"alertname", "FlowlierAnomaly"}}},
               {"commonAnnotations", json::object()},
               {"externalURL", ""},
               {"alerts", alerts}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string event_description(const SinkEvent& e) {
  const json j = json::parse(e.json, nullptr, false);
  if (!j.is_object()) return e.meta.summary;
  std::string out;
  const auto number = [](const json& v) { return v.is_number() ? fmt::format("{:.6g}", v.get<double>()) : v.dump(); };
  if (j.contains("value") && j.contains("expected")) {
    out = fmt::format("{}value {} vs expected {}", e.meta.feature.empty() ? "" : e.meta.feature + ": ",
                      number(j["value"]), number(j["expected"]));
  }
  if (j.contains("contributors") && j["contributors"].is_array() && !j["contributors"].empty()) {
    out += out.empty() ? "top contributors: " : "; top contributors: ";
    std::size_t n = 0;
    for (const auto& c : j["contributors"]) {
      if (n == 5) break;
      if (!c.is_object()) continue;
      out += n++ ? ", " : "";
      out += c.contains("key") && c["key"].is_string() ? c["key"].get<std::string>() : "?";
      // The value names the contributor (the peer's address, the port): "peer 203.0.113.9 (99%)".
      if (c.contains("value") && c["value"].is_string() && !c["value"].get<std::string>().empty()) {
        out += " " + c["value"].get<std::string>();
      } else if (c.contains("value") && c["value"].is_number()) {
        out += " " + number(c["value"]);
      }
      if (c.contains("share") && c["share"].is_number())
        out += fmt::format(" ({:.0f}%)", c["share"].get<double>() * 100.0);
    }
  }
  if (!e.meta.summary.empty()) out = out.empty() ? e.meta.summary : e.meta.summary + "\n" + out;
  return out;
}

std::vector<std::string> alertmanager_endpoints(const SinkConfig& c) {
  std::vector<std::string> out;
  const auto& urls = c.urls.empty() ? std::vector<std::string>{c.url} : c.urls;
  for (const auto& u : urls) {
    const std::string_view suffix = "/api/v2/alerts";
    const bool has = u.size() >= suffix.size() && u.compare(u.size() - suffix.size(), suffix.size(), suffix) == 0;
    out.push_back(has ? u : join_url(u, std::string(suffix)));
  }
  return out;
}

std::string encode_alertmanager_v2(const SinkConfig& c, std::span<const SinkEvent> events, std::int64_t now) {
  json alerts = json::array();
  for (const auto& e : events) {
    const auto& m = e.meta;
    json alert = {{"labels", alert_labels(m)}, {"annotations", alert_annotations(e)}};
    if (m.resolved) {
      const std::int64_t end = std::min(m.time, now);
      alert["startsAt"] = rfc3339(end);
      alert["endsAt"] = rfc3339(end);
    } else {
      alert["startsAt"] = rfc3339(m.time);
      alert["endsAt"] = rfc3339(std::max(m.time, now) + c.resend_horizon_seconds);
    }
    if (!c.generator_url.empty()) alert["generatorURL"] = c.generator_url;
    alerts.push_back(std::move(alert));
  }
  return alerts.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encode_pagerduty(const SinkConfig& c, const SinkEvent& e) {
  const auto& m = e.meta;
  json details = json::parse(e.json, nullptr, false);
  if (details.is_discarded()) details = e.json;
  json body = {{"routing_key", c.routing_key},
               {"event_action", m.resolved ? "resolve" : "trigger"},
               {"dedup_key", utf8_prefix(m.episode, 255)}};
  body["payload"] = {{"summary", event_summary(m, 1024)},
                     {"source", m.entity_id.empty() ? std::string("flowlier") : m.entity_id},
                     {"severity", pagerduty_severity(m.severity)},
                     {"timestamp", rfc3339(m.time)},
                     {"component", m.entity_kind},
                     {"group", m.detector},
                     {"class", m.category},
                     {"custom_details", details}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encode_slack(std::span<const SinkEvent> events) {
  std::string text;
  for (const auto& e : events) {
    if (!text.empty()) text += '\n';
    text += e.meta.resolved ? ":white_check_mark: " : ":rotating_light: ";
    text += event_summary(e.meta, 1000);
  }
  return json{{"text", text}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encode_json_array(std::span<const SinkEvent> events) {
  std::string out = "[";
  for (const auto& e : events) {
    if (out.size() > 1) out += ',';
    out += e.json;
  }
  return out + "]";
}

HttpRequest build_request(const SinkConfig& c, std::span<const SinkEvent> events, const std::string& channel,
                          std::int64_t now) {
  HttpRequest r;
  bool compress = false;
  switch (c.type) {
    case SinkType::splunk_hec:
      r.url = join_url(c.url, "/services/collector/event");
      r.headers.push_back("Authorization: Splunk " + c.token);
      if (!channel.empty()) r.headers.push_back("X-Splunk-Request-Channel: " + channel);
      r.headers.push_back("Content-Type: application/json");
      r.body = encode_hec(c, events);
      compress = c.gzip;
      break;
    case SinkType::sumo_logic: {
      r.url = c.url;
      r.headers.push_back("Content-Type: text/plain");
      if (!c.category.empty()) r.headers.push_back("X-Sumo-Category: " + c.category);
      if (!c.sumo_name.empty()) r.headers.push_back("X-Sumo-Name: " + c.sumo_name);
      if (!c.host.empty()) r.headers.push_back("X-Sumo-Host: " + c.host);
      if (!c.fields.empty()) {
        std::string fields;
        for (const auto& [k, v] : c.fields) fields += (fields.empty() ? "" : ",") + k + "=" + v;
        r.headers.push_back("X-Sumo-Fields: " + fields);
      }
      r.body = encode_sumo(events);
      compress = c.gzip;
      break;
    }
    case SinkType::webhook:
      r.url = c.url;
      r.headers.push_back("Content-Type: application/json");
      switch (c.format) {
        case WebhookFormat::alertmanager: r.body = encode_alertmanager(c, events); break;
        case WebhookFormat::pagerduty: r.body = events.empty() ? "{}" : encode_pagerduty(c, events.front()); break;
        case WebhookFormat::slack: r.body = encode_slack(events); break;
        case WebhookFormat::json: r.body = encode_json_array(events); break;
      }
      break;
    case SinkType::alertmanager:
      r.url = alertmanager_endpoints(c).front();
      r.headers.push_back("Content-Type: application/json");
      r.body = encode_alertmanager_v2(c, events, now);
      break;
    case SinkType::file:
    case SinkType::stdout_:
    case SinkType::kafka: break;  // not HTTP: FileSink, KafkaProducer
  }
  if (compress) {
    r.headers.push_back("Content-Encoding: gzip");
    r.body = gzip_compress(r.body);
  }
  return r;
}

HttpRequest build_hec_ack_request(const SinkConfig& c, const std::string& channel,
                                  std::span<const std::uint64_t> ids) {
  HttpRequest r;
  std::string base = c.url;
  if (auto p = base.find("/services/collector"); p != std::string::npos) base.resize(p);
  r.url = join_url(base, "/services/collector/ack");
  r.headers = {"Authorization: Splunk " + c.token, "X-Splunk-Request-Channel: " + channel,
               "Content-Type: application/json"};
  r.body = json{{"acks", std::vector<std::uint64_t>(ids.begin(), ids.end())}}.dump();
  return r;
}

// The project's one gzip codec (pipeline/Gzip, a leaf library with no pipeline deps).
std::string gzip_compress(std::string_view plain) { return pipeline::gzip(plain); }

std::string gunzip_text(std::string_view compressed) {
  std::string out;
  return pipeline::gunzip(compressed, out, std::size_t{1} << 30).empty() ? out : std::string();
}

}  // namespace flowlier::transport
